//! End-to-end tests across processes live in `tests/`: they build and start
//! `ident-server`, drive the `ident` CLI as a user would, and act as the
//! portal through the relying-party API. This library is empty on purpose;
//! a package needs a target for its integration tests.

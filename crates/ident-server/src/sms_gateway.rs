//! Sending SMS: a trait with a file outbox (development and tests) and an HTTP
//! gateway adapter.

//! Customer mail: editable templates with placeholders, sent through SMTP to a
//! filtered list of a broker's customers, with a preview and a send log.

pub mod store;

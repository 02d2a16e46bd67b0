//! tobira's web edge, shared by every function: the request parsed strictly
//! (`web`), CSRF and cross-site refusal (`csrf`), the route table with the
//! session stages each route serves (`routes`), the one mapping from a
//! domain error to an answer (`errors`), pages and their templates (`pages`,
//! `views`, `templates/`) and the QR image (`qr`). The domain (`tobira`)
//! knows none of this.

pub mod a11y;
pub mod call;
pub mod codes;
pub mod credential;
pub mod csrf;
pub mod csv;
pub mod errors;
pub mod i18n;
pub mod pages;
pub mod qr;
pub mod routes;
pub mod views;
pub mod web;

pub mod logging;
pub use logging::init_logging;

//! The one integration-test binary (one link, one set of fixtures). A module
//! per area; tests are named after the rule IDs they prove.

mod account_state;
mod audit;
mod bad_input;
mod binaries;
mod cases;
mod claims;
mod cli;
mod contract;
mod cross_site;
mod delivery;
mod dynamo_retry;
mod events;
mod factor_changes;
mod faults;
mod infra;
mod login;
mod mfa_codes;
mod mfa_devices;
mod mfa_enrol;
mod mfa_sessions;
mod mfa_support;
mod migration;
mod migration_runs;
mod openapi_errors;
mod openapi_events;
mod openapi_routes;
mod openapi_support;
mod pages;
mod portal_routes;
mod reset;
mod rules;
mod sessions;
mod setup;
mod support;
mod uniform;

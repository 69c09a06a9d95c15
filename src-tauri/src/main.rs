//! The Ident app's entry point; everything happens in [`ident_app_lib::run`].

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    ident_app_lib::run();
}

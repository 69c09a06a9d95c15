//! Push delivery to devices: a trait with `none` (long poll only, the default)
//! and FCM HTTP v1 / APNs adapters. A push carries only "a challenge is waiting"
//! and the challenge id; nothing personal goes through Apple or Google.

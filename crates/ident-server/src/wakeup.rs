//! Wake-ups for long polls: a waiting `GET /device/v1/challenges?wait=N` or
//! `GET /api/v1/auth/{txn}?wait=N` sleeps on a notification here and is woken
//! the moment something it waits for changes — no sleeping loops.

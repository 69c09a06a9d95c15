//! The background long poll: one thread per push account asks its server
//! for login requests, and what is new or gone becomes a `challenge-arrived`
//! or `challenge-closed` event and a system notification.
//!
//! Tauri 2 has no remote push; on desktop the app learns of a login request
//! by long-polling (`GET /device/v1/challenges?wait=N`) while it is unlocked.
//! The threads work on [`PushHandle`]s, which the facade detaches from the
//! vault, so polling never holds the vault lock. Locking the app or changing
//! the accounts stops the threads (each ends when its current poll returns)
//! and bumps the [`ChallengeBook`]'s generation, so a late report from an old
//! thread is ignored.
//!
//! A notification says only that a login waits and at which service: no
//! login name, IP or account name on a lock screen.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use ident_core::account::AccountId;
use ident_core::authenticator::{PendingChallenge, PendingReport, PushHandle};
use ident_core::ports::{Notification, Notifier, UnixTime};
use ident_core::protocol::Client;

use crate::settings::Lang;
use crate::views::ChallengeView;

/// An event for the web view (docs/ipc.md, "Events").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellEvent {
    /// `challenge-arrived`: a new login request.
    ChallengeArrived(ChallengeView),
    /// `challenge-closed`: answered elsewhere, expired or gone.
    ChallengeClosed {
        /// The request id.
        challenge_id: String,
    },
    /// `locked`: the idle timeout locked the app.
    Locked,
}

impl ShellEvent {
    /// The event name the UI listens to.
    pub fn name(&self) -> &'static str {
        match self {
            ShellEvent::ChallengeArrived(_) => "challenge-arrived",
            ShellEvent::ChallengeClosed { .. } => "challenge-closed",
            ShellEvent::Locked => "locked",
        }
    }

    /// The event's JSON payload.
    pub fn payload(&self) -> serde_json::Value {
        match self {
            ShellEvent::ChallengeArrived(v) => serde_json::to_value(v).unwrap_or_default(),
            ShellEvent::ChallengeClosed { challenge_id } => {
                serde_json::json!({ "challengeId": challenge_id })
            }
            ShellEvent::Locked => serde_json::Value::Null,
        }
    }
}

/// Where events go: the Tauri window, or a list in tests.
pub trait EventSink: Send + Sync {
    /// Sends `event` to the web view.
    fn emit(&self, event: ShellEvent);
}

/// Locks a mutex, recovering the data if a thread panicked while holding it
/// (every critical section here leaves the data consistent).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The open login requests this app knows of, by id.
#[derive(Debug, Default)]
pub struct ChallengeBook {
    generation: u64,
    open: HashMap<String, PendingChallenge>,
    /// Requests answered here: a poll that raced the answer must not bring
    /// them back.
    answered: HashSet<String>,
}

impl ChallengeBook {
    /// The current generation (reports of other generations are ignored).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Forgets everything and starts a new generation; returns it.
    pub fn reset(&mut self) -> u64 {
        self.generation = self.generation.wrapping_add(1);
        self.open.clear();
        self.answered.clear();
        self.generation
    }

    /// Takes in what a poll of `accounts` found: new requests become
    /// `ChallengeArrived`; requests of those accounts that the server no
    /// longer lists become `ChallengeClosed` (only when that account's poll
    /// failed nowhere, else the list may be incomplete); expired ones close.
    pub fn merge(
        &mut self,
        generation: u64,
        accounts: &[AccountId],
        report: PendingReport,
        now: UnixTime,
    ) -> Vec<ShellEvent> {
        if generation != self.generation {
            return Vec::new();
        }
        let mut events = Vec::new();
        let failed: HashSet<AccountId> = report.failures.iter().map(|f| f.account_id).collect();
        let listed: HashSet<String> = report
            .challenges
            .iter()
            .map(|c| c.challenge.id().as_str().to_owned())
            .collect();
        for c in report.challenges {
            let id = c.challenge.id().as_str().to_owned();
            if c.challenge.expires_at() <= now
                || self.answered.contains(&id)
                || self.open.contains_key(&id)
            {
                continue;
            }
            events.push(ShellEvent::ChallengeArrived(ChallengeView::from(&c)));
            self.open.insert(id, c);
        }
        let gone: Vec<String> = self
            .open
            .iter()
            .filter(|(id, c)| {
                accounts.contains(&c.account_id)
                    && !failed.contains(&c.account_id)
                    && !listed.contains(*id)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            self.open.remove(&id);
            events.push(ShellEvent::ChallengeClosed { challenge_id: id });
        }
        events.extend(self.expire(now));
        events
    }

    /// Closes every request whose time is up.
    pub fn expire(&mut self, now: UnixTime) -> Vec<ShellEvent> {
        let expired: Vec<String> = self
            .open
            .iter()
            .filter(|(_, c)| c.challenge.expires_at() <= now)
            .map(|(id, _)| id.clone())
            .collect();
        expired
            .into_iter()
            .map(|id| {
                self.open.remove(&id);
                ShellEvent::ChallengeClosed { challenge_id: id }
            })
            .collect()
    }

    /// The request `id`, if open.
    pub fn get(&self, id: &str) -> Option<PendingChallenge> {
        self.open.get(id).cloned()
    }

    /// Marks `id` answered here (or gone) and forgets it.
    pub fn close(&mut self, id: &str) {
        self.open.remove(id);
        self.answered.insert(id.to_owned());
    }

    /// The open requests, oldest first.
    pub fn list(&self) -> Vec<ChallengeView> {
        let mut v: Vec<&PendingChallenge> = self.open.values().collect();
        v.sort_by_key(|c| {
            (
                c.challenge.issued_at(),
                c.challenge.id().as_str().to_owned(),
            )
        });
        v.into_iter().map(ChallengeView::from).collect()
    }
}

/// Delivers book events: to the web view, and as system notifications.
#[derive(Clone)]
pub struct Dispatcher {
    /// The open requests.
    pub book: Arc<Mutex<ChallengeBook>>,
    events: Arc<dyn EventSink>,
    notifier: Arc<dyn Notifier>,
    lang: Arc<Mutex<Lang>>,
}

impl Dispatcher {
    /// A dispatcher over these ports.
    pub fn new(events: Arc<dyn EventSink>, notifier: Arc<dyn Notifier>, lang: Lang) -> Self {
        Self {
            book: Arc::new(Mutex::new(ChallengeBook::default())),
            events,
            notifier,
            lang: Arc::new(Mutex::new(lang)),
        }
    }

    /// Sets the language of notification texts.
    pub fn set_lang(&self, lang: Lang) {
        *lock(&self.lang) = lang;
    }

    /// Sends `events`; with `notify`, new requests also raise a notification
    /// and closed ones clear theirs.
    pub fn deliver(&self, events: Vec<ShellEvent>, notify: bool) {
        let lang = *lock(&self.lang);
        for e in events {
            match &e {
                ShellEvent::ChallengeArrived(v) if notify => {
                    self.notifier.notify(notification(lang, v));
                }
                ShellEvent::ChallengeClosed { challenge_id } => self.notifier.clear(challenge_id),
                _ => {}
            }
            self.events.emit(e);
        }
    }

    /// Sends an event that is not about a request.
    pub fn emit(&self, event: ShellEvent) {
        self.events.emit(event);
    }

    /// Clears the notification of request `id`.
    pub fn clear_notification(&self, id: &str) {
        self.notifier.clear(id);
    }
}

/// The notification for a new request: the service only.
pub fn notification(lang: Lang, v: &ChallengeView) -> Notification {
    let (title, body) = match lang {
        Lang::De => (
            "Anmeldung bestätigen?".to_owned(),
            format!("Anmeldeanfrage bei {}", v.service),
        ),
        Lang::En => (
            "Approve login?".to_owned(),
            format!("Login request at {}", v.service),
        ),
    };
    Notification {
        id: v.challenge_id.clone(),
        title,
        body,
    }
}

/// Timing of the poll loop.
#[derive(Debug, Clone, Copy)]
pub struct PollConfig {
    /// The long-poll `wait` in seconds.
    pub wait_secs: u32,
    /// The shortest time between two polls of one account (a server that
    /// ignores `wait` is not hammered).
    pub min_interval: Duration,
    /// While a request is open the server answers at once; poll this often.
    pub open_interval: Duration,
    /// The first wait after a failure; doubles up to `max_backoff`.
    pub first_backoff: Duration,
    /// The longest wait after failures.
    pub max_backoff: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        Self {
            wait_secs: 30,
            min_interval: Duration::from_secs(1),
            open_interval: Duration::from_secs(2),
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(120),
        }
    }
}

/// The running poll threads of one generation.
#[derive(Debug)]
pub struct Poller {
    stop: Arc<AtomicBool>,
    threads: usize,
}

impl Poller {
    /// Starts one thread per handle. Reports are merged into the
    /// dispatcher's book under `generation`.
    pub fn start(
        handles: Vec<PushHandle>,
        client: &Client,
        dispatch: &Dispatcher,
        clock: Arc<dyn ident_core::ports::Clock>,
        generation: u64,
        cfg: PollConfig,
    ) -> Poller {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = 0;
        for h in handles {
            let (stop, client, dispatch, clock) = (
                stop.clone(),
                client.clone(),
                dispatch.clone(),
                clock.clone(),
            );
            let spawned = thread::Builder::new()
                .name(format!("ident-poll-{}", h.account_id.0))
                .spawn(move || {
                    poll_loop(
                        &h,
                        &client,
                        &dispatch,
                        clock.as_ref(),
                        generation,
                        cfg,
                        &stop,
                    )
                });
            match spawned {
                Ok(_) => threads += 1,
                Err(_) => log::warn!("could not start a poll thread"),
            }
        }
        Poller { stop, threads }
    }

    /// How many threads were started.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Tells every thread to end after its current poll.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop();
    }
}

fn poll_loop(
    h: &PushHandle,
    client: &Client,
    dispatch: &Dispatcher,
    clock: &dyn ident_core::ports::Clock,
    generation: u64,
    cfg: PollConfig,
    stop: &AtomicBool,
) {
    let mut backoff = cfg.first_backoff;
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let report = h.pending(client, Some(cfg.wait_secs));
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let failed = !report.failures.is_empty();
        let open = !report.challenges.is_empty();
        let events = lock(&dispatch.book).merge(generation, &[h.account_id], report, clock.now());
        dispatch.deliver(events, true);
        let pause = if failed {
            let p = backoff;
            backoff = (backoff * 2).min(cfg.max_backoff);
            p
        } else {
            backoff = cfg.first_backoff;
            let floor = if open {
                cfg.open_interval
            } else {
                cfg.min_interval
            };
            floor.saturating_sub(started.elapsed())
        };
        sleep_unless_stopped(pause, stop);
    }
}

/// Sleeps `d` in short steps, returning early when `stop` is set.
fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        thread::sleep(left.min(Duration::from_millis(200)));
    }
}

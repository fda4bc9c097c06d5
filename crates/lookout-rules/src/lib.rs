//! Recording and alerting rules as Prometheus evaluates them: rule files (`groups:`) validated as `promtool check
//! rules` validates them, groups evaluated on their slot (Prometheus's offset from a hash of file and name), rules
//! in order with each one's output visible to the next, recording results and `ALERTS`/`ALERTS_FOR_STATE` written
//! through the normal `Appender` with stale markers, alert states (`for`, `keep_firing_for`, 15 minutes of
//! resolved alerts), resending, and the `for`-state restore after a restart.
//!
//! Evaluation reads and writes through `&dyn Storage` and the PromQL engine, on the caller's bounded pool
//! ([`Executor`]); alerts due for notification go to a [`NotifySink`]; template expansion is behind
//! [`Templates`] (see [`PromTemplates`] for Prometheus's functions).

mod alert;
mod file;
mod group;
mod locate;
mod manager;
mod rule;
mod templates;

pub use alert::{Alert, AlertState, RESOLVED_RETENTION_MS};
pub use file::{Findings, GroupSpec, RuleFile, RuleKind, RuleSpec, parse};
pub use group::{Group, GroupCounters};
pub use manager::{Executor, ManagerOptions, NotifySink, RuleManager, load_files};
pub use rule::{EvalEnv, Health, Notification, Rule, Templates, generator_url};
pub use templates::{PromTemplates, check_alert_template};

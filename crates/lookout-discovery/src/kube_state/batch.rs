//! Job and CronJob families.

use lookout_model::MetricsWriter;

use super::helpers::{cond3, gauge, owners, put, simple, ts};
use super::workloads::{id, n};
use crate::cache::Snapshot;

/// The failure reasons `kube_job_status_failed` reports one series each for.
const JOB_FAILURE_REASONS: [&str; 3] = ["BackoffLimitExceeded", "DeadlineExceeded", "Evicted"];

/// Renders the Job and CronJob families.
pub fn render(s: &Snapshot, out: &mut MetricsWriter) {
    let jobs = &s.jobs;
    let ji = |x: &k8s_openapi::api::batch::v1::Job| id("job_name", &x.metadata);
    let jst = |x: &k8s_openapi::api::batch::v1::Job| x.status.clone().unwrap_or_default();
    simple(
        out,
        "kube_job_info",
        "Information about job.",
        jobs,
        ji,
        |_| Some(1.0),
    );
    let mut f = gauge(out, "kube_job_owner", "Information about the Job's owner.");
    for x in jobs {
        for (k, nm, c) in owners(&x.metadata) {
            put(
                &mut f,
                &ji(x),
                &[
                    ("owner_kind", &k),
                    ("owner_name", &nm),
                    ("owner_is_controller", &c),
                ],
                1.0,
            );
        }
    }
    simple(
        out,
        "kube_job_spec_parallelism",
        "The maximum desired number of pods the job should run at any given time.",
        jobs,
        ji,
        |x| n(x.spec.as_ref().and_then(|s| s.parallelism)),
    );
    simple(
        out,
        "kube_job_spec_completions",
        "The desired number of successfully finished pods the job should be run with.",
        jobs,
        ji,
        |x| n(x.spec.as_ref().and_then(|s| s.completions)),
    );
    simple(
        out,
        "kube_job_status_active",
        "The number of actively running pods.",
        jobs,
        ji,
        |x| n(jst(x).active.or(Some(0))),
    );
    simple(
        out,
        "kube_job_status_succeeded",
        "The number of pods which reached Phase Succeeded.",
        jobs,
        ji,
        |x| n(jst(x).succeeded.or(Some(0))),
    );
    let mut f = gauge(
        out,
        "kube_job_status_failed",
        "The number of pods which reached Phase Failed and the reason for failure.",
    );
    for x in jobs {
        let st = jst(x);
        let failed = f64::from(st.failed.unwrap_or(0));
        if failed == 0.0 {
            put(&mut f, &ji(x), &[], 0.0);
            continue;
        }
        // As KSM: with a Failed condition, one 0/1 series per known reason; otherwise the count under reason="".
        let failed_reason = st
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "Failed")
            .map(|c| c.reason.clone().unwrap_or_default());
        let matched = failed_reason
            .as_deref()
            .is_some_and(|r| JOB_FAILURE_REASONS.contains(&r));
        if !matched {
            put(&mut f, &ji(x), &[("reason", "")], failed);
            continue;
        }
        for r in JOB_FAILURE_REASONS {
            let v = f64::from(u8::from(failed_reason.as_deref() == Some(r)));
            put(&mut f, &ji(x), &[("reason", r)], v);
        }
    }
    simple(
        out,
        "kube_job_status_start_time",
        "StartTime represents time when the job was acknowledged by the Job Manager.",
        jobs,
        ji,
        |x| jst(x).start_time.as_ref().map(ts),
    );
    simple(
        out,
        "kube_job_status_completion_time",
        "CompletionTime represents time when the job was completed.",
        jobs,
        ji,
        |x| jst(x).completion_time.as_ref().map(ts),
    );
    for (name, t) in [
        ("kube_job_complete", "Complete"),
        ("kube_job_failed", "Failed"),
    ] {
        let mut f = gauge(out, name, "The job has completed its execution / failed.");
        for x in jobs {
            if let Some(c) = jst(x).conditions.iter().flatten().find(|c| c.type_ == t) {
                cond3(&mut f, &ji(x), &[], "condition", &c.status);
            }
        }
    }

    let cj = &s.cron_jobs;
    let ci = |x: &k8s_openapi::api::batch::v1::CronJob| id("cronjob", &x.metadata);
    let mut f = gauge(out, "kube_cronjob_info", "Info about cronjob.");
    for x in cj {
        let spec = x.spec.clone().unwrap_or_default();
        let policy = spec
            .concurrency_policy
            .clone()
            .unwrap_or_else(|| "Allow".into());
        let tz = spec.time_zone.clone().unwrap_or_else(|| "local".into());
        put(
            &mut f,
            &ci(x),
            &[
                ("schedule", &spec.schedule),
                ("concurrency_policy", &policy),
                ("timezone", &tz),
            ],
            1.0,
        );
    }
    simple(
        out,
        "kube_cronjob_spec_suspend",
        "Suspend flag tells the controller to suspend subsequent executions.",
        cj,
        ci,
        |x| {
            Some(f64::from(u8::from(
                x.spec.as_ref().and_then(|s| s.suspend).unwrap_or(false),
            )))
        },
    );
    simple(
        out,
        "kube_cronjob_status_active",
        "Active holds pointers to currently running jobs.",
        cj,
        ci,
        |x| {
            Some(
                x.status
                    .as_ref()
                    .and_then(|s| s.active.as_ref())
                    .map_or(0, Vec::len) as f64,
            )
        },
    );
    simple(
        out,
        "kube_cronjob_status_last_schedule_time",
        "LastScheduleTime keeps information of when was the last time the job was successfully scheduled.",
        cj,
        ci,
        |x| {
            x.status
                .as_ref()
                .and_then(|s| s.last_schedule_time.as_ref())
                .map(ts)
        },
    );
}

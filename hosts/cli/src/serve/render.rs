//! `POST /render`: one job; a PNG answer (the result JSON, its `data` empty, in
//! `X-Haforu-Result`) when the job asks for `png`, else the result JSON with images base64
//! inside.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use haforu_guest::{flags, image, kind};
use tokio::sync::oneshot;

use super::lanes::Moved;
use super::metrics::InFlight;
use super::respond::{content_length, host_error, outcome_response, too_large, too_slow};
use super::{App, SERVER_FLAGS};
use crate::pool::{Refused, Task};
use crate::runtime::{Outcome, Worker};

pub async fn render(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let t0 = Instant::now();
    let _guard = InFlight::new(&app);
    let r = render_inner(&app, &headers, body, t0).await;
    app.metrics.request("render", r.status());
    app.metrics
        .latency_render
        .observe(t0.elapsed().as_secs_f64());
    r
}

async fn render_inner(app: &Arc<App>, headers: &HeaderMap, body: Body, t0: Instant) -> Response {
    if content_length(headers).is_some_and(|n| n > app.max_body as u64) {
        return too_large(app);
    }
    let bytes = match tokio::time::timeout(app.body_timeout, to_bytes(body, app.max_body)).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return too_large(app),
        Err(_) => return too_slow(app),
    };
    let job: Arc<[u8]> = Arc::from(bytes.as_ref());
    let timeout = app.rt.sandbox.timeout_ms;
    let deadline = (timeout > 0).then(|| t0 + Duration::from_millis(timeout));
    let (reply, rx) = oneshot::channel();
    let submitted = if app.lanes.heavy_by_size(job.len()) {
        app.metrics.heavy_jobs.fetch_add(1, Ordering::Relaxed);
        let task_job = Arc::clone(&job);
        let task: Task = Box::new(move |w: &mut Worker| {
            let _ = reply.send(execute(w, &task_job, deadline, t0));
        });
        match app.lanes.hand(task) {
            Moved::Queued => Ok(()),
            Moved::Full(_) => Err(Busy::Heavy),
        }
    } else {
        let (task_job, lane_app) = (Arc::clone(&job), Arc::clone(app));
        let task: Task = Box::new(move |w: &mut Worker| {
            route(&lane_app, w, task_job, reply, deadline, t0);
        });
        app.pool.try_submit(task).map_err(Busy::Main)
    };
    if let Err(busy) = submitted {
        let reason = match busy {
            Busy::Main(Refused::Full) => {
                app.metrics.rejected_full.fetch_add(1, Ordering::Relaxed);
                format!(
                    "the server is busy ({} jobs queued); retry later",
                    app.pool.capacity()
                )
            }
            Busy::Heavy => heavy_busy(app),
            Busy::Main(Refused::Closed) => "the server is shutting down".to_string(),
        };
        let o = host_error(app, &job, kind::OVERLOADED, &reason);
        app.metrics.job(&app.rt, &o);
        return outcome_response(o, None);
    }
    let Ok((o, png)) = rx.await else {
        let o = host_error(
            app,
            &job,
            kind::INTERNAL,
            "the worker stopped before answering",
        );
        return outcome_response(o, None);
    };
    app.metrics.job(&app.rt, &o);
    match (png, o.data) {
        (true, Some(data)) => {
            let mut r = (StatusCode::OK, data).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            if let Ok(v) = HeaderValue::from_bytes(&o.json) {
                h.insert("x-haforu-result", v);
            }
            r
        }
        (_, data) => outcome_response(Outcome { data, ..o }, None),
    }
}

enum Busy {
    Main(Refused),
    Heavy,
}

type Reply = oneshot::Sender<(Outcome, bool)>;

/// On a main-pool worker: runs the job here, or, when the engine says it is heavy, moves it
/// to the heavy lane (answering `overloaded` when that lane is full).
fn route(
    app: &Arc<App>,
    w: &mut Worker,
    job: Arc<[u8]>,
    reply: Reply,
    deadline: Option<Instant>,
    t0: Instant,
) {
    if !app.lanes.heavy_by_estimate(w, &job) {
        let _ = reply.send(execute(w, &job, deadline, t0));
        return;
    }
    app.metrics.heavy_jobs.fetch_add(1, Ordering::Relaxed);
    if app.lanes.heavy_full() {
        let o = w.error(Some(&job), 0, kind::OVERLOADED, &heavy_busy(app), 0, t0);
        let _ = reply.send((o, false));
        return;
    }
    let task: Task = Box::new(move |hw: &mut Worker| {
        let _ = reply.send(execute(hw, &job, deadline, t0));
    });
    if let Moved::Full(task) = app.lanes.hand(task) {
        // Filled up since the check: run it here rather than lose it.
        task(w);
    }
}

fn heavy_busy(app: &App) -> String {
    app.metrics.rejected_heavy.fetch_add(1, Ordering::Relaxed);
    let (_, queue) = app.lanes.heavy_shape();
    format!("the server is busy with expensive jobs ({queue} queued); retry later")
}

/// Runs a `/render` job on a worker: refused as `overloaded` when its deadline passed while
/// it waited; else with what is left of the deadline, once. The image comes out of band with
/// its format in the descriptor: a `png` is answered as the image (true), any other image
/// result as JSON with the base64 text spliced in where the engine says (a `pgm` or `raw`
/// over HTTP is JSON with base64 inside).
fn execute(
    w: &mut Worker,
    job: &[u8],
    deadline: Option<Instant>,
    enqueued: Instant,
) -> (Outcome, bool) {
    let now = Instant::now();
    let budget = match deadline {
        Some(d) if d <= now => {
            let waited = now.duration_since(enqueued).as_millis();
            let reason =
                format!("the request's deadline passed while it waited {waited} ms for a worker");
            return (
                w.error(Some(job), 0, kind::OVERLOADED, &reason, 0, enqueued),
                false,
            );
        }
        Some(d) => Some(d - now),
        None => None,
    };
    let o = w.run_parts(job, 0, SERVER_FLAGS | flags::SPLICE_DATA, budget);
    if o.image == image::PNG && o.data.is_some() {
        return (o, true);
    }
    (o.inline(), false)
}

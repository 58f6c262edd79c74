//! `POST /batch`: JSONL (or a batch object) in, one result per line out, in input order,
//! streamed as jobs finish. Jobs wait for room in the queue (backpressure).

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use haforu_guest::{flags, kind};
use tokio::sync::{mpsc, oneshot};

use super::body::{BodyLines, Line};
use super::lanes::Moved;
use super::metrics::InFlight;
use super::respond::{content_length, host_error, too_large, with_newline};
use super::{App, SERVER_FLAGS};
use crate::pool::Task;
use crate::runtime::{Outcome, Split, Worker};

type Order = mpsc::Sender<oneshot::Receiver<Outcome>>;

pub async fn batch(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let t0 = Instant::now();
    let guard = InFlight::new(&app);
    if content_length(&headers).is_some_and(|n| n > app.max_body as u64) {
        app.metrics.request("batch", StatusCode::PAYLOAD_TOO_LARGE);
        return too_large(&app);
    }
    let (line_tx, line_rx) = mpsc::channel::<Bytes>(64);
    let driver_app = Arc::clone(&app);
    tokio::spawn(async move {
        drive_batch(&driver_app, body, line_tx).await;
        driver_app
            .metrics
            .latency_batch
            .observe(t0.elapsed().as_secs_f64());
        drop(guard);
    });
    app.metrics.request("batch", StatusCode::OK);
    let stream = futures_util::stream::unfold(line_rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<Bytes, Infallible>(b), rx))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    r
}

/// A result that is already known, in its place in the order.
async fn answer(order: &Order, o: Outcome) {
    let (tx, rx) = oneshot::channel();
    let _ = tx.send(o);
    let _ = order.send(rx).await;
}

/// Reads the body's job lines, queues them (waiting for room), and writes results in input
/// order to `out` as they finish.
async fn drive_batch(app: &Arc<App>, body: Body, out: mpsc::Sender<Bytes>) {
    let in_flight = app.workers * 2 + 8;
    let (order_tx, mut order_rx) = mpsc::channel::<oneshot::Receiver<Outcome>>(in_flight);
    let writer_app = Arc::clone(app);
    let writer = tokio::spawn(async move {
        while let Some(rx) = order_rx.recv().await {
            let Ok(o) = rx.await else { continue };
            writer_app.metrics.job(&writer_app.rt, &o);
            if out.send(Bytes::from(with_newline(o.json))).await.is_err() {
                break; // the client went away
            }
        }
    });
    let mut lines = BodyLines::new(body, app.max_body);
    let mut first = true;
    let too_large = || {
        let reason = format!(
            "the request body is larger than {} MiB; the rest was not run",
            app.max_body >> 20
        );
        host_error(app, br#"{"id":"batch"}"#, kind::LIMIT_EXCEEDED, &reason)
    };
    loop {
        let (line_no, text) = match lines.next_line().await {
            Line::Job(n, t) => (n, t),
            Line::End | Line::Broken => break,
            Line::TooLarge => {
                answer(&order_tx, too_large()).await;
                break;
            }
        };
        if std::mem::take(&mut first) && app.clerk(|w| w.probe(&text).unwrap_or(false)) {
            // A batch object or a JSON text over several lines: read it whole, split it.
            let mut whole = text;
            whole.push(b'\n');
            match lines.rest().await {
                Ok(rest) => whole.extend_from_slice(&rest),
                Err(Line::TooLarge) => {
                    answer(&order_tx, too_large()).await;
                    break;
                }
                Err(_) => break,
            }
            run_whole(app, whole, &order_tx).await;
            break;
        }
        if !submit(app, text, line_no, &order_tx).await {
            break;
        }
    }
    drop(order_tx);
    let _ = writer.await;
}

/// Queues one job line; false when the pool is closed or the client is gone.
async fn submit(app: &Arc<App>, text: Vec<u8>, line_no: u32, order: &Order) -> bool {
    let (tx, rx) = oneshot::channel();
    let lane_app = Arc::clone(app);
    let task = Box::new(move |w: &mut Worker| {
        let heavy = lane_app.lanes.heavy_by_estimate(w, &text);
        let run: Task = Box::new(move |w: &mut Worker| {
            let o = w.run_job(&text, line_no, SERVER_FLAGS | flags::SPLICE_DATA, None);
            let _ = tx.send(o);
        });
        if !heavy {
            return run(w);
        }
        // A heavy job moves to the heavy lane; when that is full it runs here (a batch
        // waits rather than fails).
        lane_app.metrics.heavy_jobs.fetch_add(1, Ordering::Relaxed);
        if let Moved::Full(run) = lane_app.lanes.hand(run) {
            run(w);
        }
    });
    if !app.pool.submit(task).await {
        return false;
    }
    order.send(rx).await.is_ok()
}

/// A job list read whole: split by the engine, then run job by job.
async fn run_whole(app: &Arc<App>, whole: Vec<u8>, order: &Order) {
    let (tx, rx) = oneshot::channel::<Split>();
    let task = Box::new(move |w: &mut Worker| {
        let _ = tx.send(w.split(&whole));
    });
    if !app.pool.submit(task).await {
        return;
    }
    match rx.await {
        Ok(Ok(jobs)) => {
            for (n, text) in jobs {
                if !submit(app, text, n, order).await {
                    return;
                }
            }
        }
        Ok(Err(o)) => answer(order, o).await,
        Err(_) => {}
    }
}

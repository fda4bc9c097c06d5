//! The syslog listeners: one task per UDP socket (a datagram is a message), one accept task per TCP listener
//! with a task per connection (bounded by `max_connections`, closed after `idle_timeout` of silence). Bad input
//! is counted and never ends a listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};

use super::Converter;
use super::framing::{Frame, Framer};
use crate::HostLogsError;
use crate::metrics::{DropReason, inc};
use crate::shipper::{Item, Shutdown};

/// Listener limits.
pub(crate) struct Limits {
    pub max_message: usize,
    pub max_connections: usize,
    pub idle_timeout: Duration,
}

fn bind_err(addr: &str, source: std::io::Error) -> HostLogsError {
    HostLogsError::Bind {
        addr: addr.to_string(),
        source,
    }
}

/// Binds a UDP socket and starts its task.
pub(crate) fn udp(
    addr: &str,
    limits: &Limits,
    conv: Arc<Converter>,
    tx: mpsc::Sender<Item>,
    shutdown: Shutdown,
) -> Result<(SocketAddr, JoinHandle<()>), HostLogsError> {
    let std_sock = std::net::UdpSocket::bind(addr).map_err(|e| bind_err(addr, e))?;
    std_sock
        .set_nonblocking(true)
        .map_err(|e| bind_err(addr, e))?;
    let sock = UdpSocket::from_std(std_sock).map_err(|e| bind_err(addr, e))?;
    let bound = sock.local_addr().map_err(|e| bind_err(addr, e))?;
    let max = limits.max_message;
    let task = tokio::spawn(async move {
        // One byte more than the limit tells an oversized datagram from one exactly at it.
        let mut buf = vec![0u8; max + 1];
        loop {
            let (n, peer) = tokio::select! {
                r = sock.recv_from(&mut buf) => match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::debug!(error = %e, "syslog UDP receive failed");
                        inc(&conv.metrics.source_errors);
                        continue;
                    }
                },
                _ = shutdown.wait() => break,
            };
            if n > max {
                inc(&conv.metrics.read);
                conv.metrics.dropped(DropReason::TooLarge, 1);
                continue;
            }
            let mut msg = &buf[..n];
            while let [rest @ .., b'\n' | b'\r' | 0] = msg {
                msg = rest;
            }
            if let Some(item) = conv.convert(msg, Some(peer.ip()))
                && tx.send(item).await.is_err()
            {
                break;
            }
        }
    });
    Ok((bound, task))
}

/// Binds a TCP listener and starts its accept task.
pub(crate) fn tcp(
    addr: &str,
    limits: &Limits,
    conv: Arc<Converter>,
    tx: mpsc::Sender<Item>,
    shutdown: Shutdown,
) -> Result<(SocketAddr, JoinHandle<()>), HostLogsError> {
    let std_l = std::net::TcpListener::bind(addr).map_err(|e| bind_err(addr, e))?;
    std_l.set_nonblocking(true).map_err(|e| bind_err(addr, e))?;
    let listener = TcpListener::from_std(std_l).map_err(|e| bind_err(addr, e))?;
    let bound = listener.local_addr().map_err(|e| bind_err(addr, e))?;
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (max, idle) = (limits.max_message, limits.idle_timeout);
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let (stream, peer) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little rather than spin.
                        tracing::warn!(error = %e, "syslog TCP accept failed");
                        inc(&conv.metrics.source_errors);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = shutdown.wait() => break,
                Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                inc(&conv.metrics.rejected);
                drop(stream);
                continue;
            };
            inc(&conv.metrics.starts);
            let (conv, tx, shutdown) = (conv.clone(), tx.clone(), shutdown.clone());
            conns.spawn(async move {
                inc(&conv.metrics.active);
                connection(stream, peer, max, idle, &conv, &tx, &shutdown).await;
                conv.metrics
                    .active
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                drop(permit);
            });
        }
        while conns.join_next().await.is_some() {}
    });
    Ok((bound, task))
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    max: usize,
    idle: Duration,
    conv: &Converter,
    tx: &mpsc::Sender<Item>,
    shutdown: &Shutdown,
) {
    let mut framer = Framer::new(max);
    let mut buf = vec![0u8; 64 << 10];
    let mut frames = Vec::new();
    loop {
        let n = tokio::select! {
            r = tokio::time::timeout(idle, stream.read(&mut buf)) => match r {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, %peer, "syslog connection read failed");
                    0
                }
                Err(_) => {
                    tracing::debug!(%peer, "closing idle syslog connection");
                    0
                }
            },
            _ = shutdown.wait() => 0,
        };
        if n == 0 {
            framer.finish(&mut frames);
        } else {
            framer.push(&buf[..n], &mut frames);
        }
        let mut broken = false;
        for f in frames.drain(..) {
            match f {
                Frame::Message(m) => {
                    if let Some(item) = conv.convert(&m, Some(peer.ip()))
                        && tx.send(item).await.is_err()
                    {
                        return;
                    }
                }
                Frame::TooLarge => {
                    inc(&conv.metrics.read);
                    conv.metrics.dropped(DropReason::TooLarge, 1);
                }
                Frame::Broken(why) => {
                    tracing::debug!(%peer, why, "closing syslog connection with broken framing");
                    inc(&conv.metrics.read);
                    conv.metrics.dropped(DropReason::Malformed, 1);
                    broken = true;
                }
            }
        }
        if n == 0 || broken {
            return;
        }
    }
}

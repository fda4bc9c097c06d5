//! Splitting a TCP byte stream into syslog messages (RFC 6587): octet counting (`<len> <msg>`) when the
//! connection's first byte is a digit, newline-terminated messages otherwise, decided once per connection as
//! Promtail does. Messages above the size limit are skipped whole and reported, so the stream stays in sync.

/// What the framer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// One message.
    Message(Vec<u8>),
    /// A message above the limit was skipped.
    TooLarge,
    /// The stream broke the framing; the connection should be closed.
    Broken(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Undecided,
    Octet,
    Newline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Octet counting: reading the length digits.
    Length,
    /// Octet counting: reading `n` message bytes.
    Body(usize),
    /// Skipping `n` bytes of an oversized message, or (newline) skipping to the next newline.
    Skip(usize),
    /// Nothing special.
    Normal,
}

/// Frames one connection's bytes.
#[derive(Debug)]
pub struct Framer {
    mode: Mode,
    state: State,
    buf: Vec<u8>,
    max: usize,
    broken: bool,
}

/// More length digits than this is not a length.
const MAX_LEN_DIGITS: usize = 10;

impl Framer {
    /// A framer for messages of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Framer {
            mode: Mode::Undecided,
            state: State::Normal,
            buf: Vec::new(),
            max: max.max(1),
            broken: false,
        }
    }

    /// Feeds bytes read from the connection; complete frames are appended to `out`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<Frame>) {
        if self.broken || data.is_empty() {
            return;
        }
        if self.mode == Mode::Undecided {
            if data[0].is_ascii_digit() {
                self.mode = Mode::Octet;
                self.state = State::Length;
            } else {
                self.mode = Mode::Newline;
            }
        }
        while !data.is_empty() && !self.broken {
            let used = match self.mode {
                Mode::Octet => self.octet(data, out),
                _ => self.newline(data, out),
            };
            data = &data[used..];
        }
    }

    /// The connection ended: a newline-framed message without its final newline still counts (rsyslog does
    /// the same); an incomplete octet-counted message is broken.
    pub fn finish(&mut self, out: &mut Vec<Frame>) {
        if self.broken {
            return;
        }
        match (self.mode, self.state) {
            (Mode::Newline, State::Normal) => {
                let msg = std::mem::take(&mut self.buf);
                push_line(msg, out);
            }
            (Mode::Octet, State::Body(_)) => {
                out.push(Frame::Broken("connection closed mid-message"))
            }
            (Mode::Octet, State::Length) if !self.buf.is_empty() => {
                out.push(Frame::Broken("connection closed mid-length"))
            }
            _ => {}
        }
        self.buf.clear();
    }

    fn octet(&mut self, data: &[u8], out: &mut Vec<Frame>) -> usize {
        match self.state {
            State::Length | State::Normal => {
                for (i, &b) in data.iter().enumerate() {
                    if b.is_ascii_digit() {
                        self.buf.push(b);
                        if self.buf.len() > MAX_LEN_DIGITS {
                            return self.break_with(out, "message length too long");
                        }
                    } else if b == b' ' && !self.buf.is_empty() && self.buf[0] != b'0' {
                        let len: usize = std::str::from_utf8(&self.buf)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(usize::MAX);
                        self.buf.clear();
                        if len > self.max {
                            out.push(Frame::TooLarge);
                            self.state = State::Skip(len);
                        } else {
                            self.state = State::Body(len);
                        }
                        return i + 1;
                    } else if b == b'\n' && self.buf.is_empty() {
                        // Tolerate a newline after an octet-counted message (some senders add one).
                    } else {
                        return self.break_with(out, "bad octet-counting length");
                    }
                }
                data.len()
            }
            State::Body(n) => {
                let take = (n - self.buf.len()).min(data.len());
                self.buf.extend_from_slice(&data[..take]);
                if self.buf.len() == n {
                    out.push(Frame::Message(std::mem::take(&mut self.buf)));
                    self.state = State::Length;
                }
                take
            }
            State::Skip(n) => {
                let take = n.min(data.len());
                self.state = if take == n {
                    State::Length
                } else {
                    State::Skip(n - take)
                };
                take
            }
        }
    }

    fn newline(&mut self, data: &[u8], out: &mut Vec<Frame>) -> usize {
        let nl = data.iter().position(|&b| b == b'\n');
        if let State::Skip(_) = self.state {
            return match nl {
                Some(i) => {
                    self.state = State::Normal;
                    i + 1
                }
                None => data.len(),
            };
        }
        let (chunk, used) = match nl {
            Some(i) => (&data[..i], i + 1),
            None => (data, data.len()),
        };
        if self.buf.len() + chunk.len() > self.max + 1 {
            // The +1 leaves room for a trailing '\r' the limit does not count.
            out.push(Frame::TooLarge);
            self.buf.clear();
            if nl.is_none() {
                self.state = State::Skip(0);
            }
            return used;
        }
        self.buf.extend_from_slice(chunk);
        if nl.is_some() {
            let msg = std::mem::take(&mut self.buf);
            if msg.len() > self.max && msg.last() != Some(&b'\r') {
                out.push(Frame::TooLarge);
            } else {
                push_line(msg, out);
            }
        }
        used
    }

    fn break_with(&mut self, out: &mut Vec<Frame>, why: &'static str) -> usize {
        self.broken = true;
        self.buf.clear();
        out.push(Frame::Broken(why));
        0
    }
}

fn push_line(mut msg: Vec<u8>, out: &mut Vec<Frame>) {
    if msg.last() == Some(&b'\r') {
        msg.pop();
    }
    if !msg.is_empty() {
        out.push(Frame::Message(msg));
    }
}

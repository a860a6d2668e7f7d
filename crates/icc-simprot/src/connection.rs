//! One SimProt TCP connection: send messages, receive them as they arrive.
//!
//! The connection does not reconnect by itself. After a drop, connect again and resynchronise
//! as the seed describes: ES_CHAT_RESYNC (answered by SE_CHAT_LIST) for an external app,
//! CS_CHAT_RESYNC for an agent client, and ES_CHAT_START with the same TrackingId to get a
//! chat's sentences back.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};

use crate::catalogue::Message;
use crate::framing::{Decoder, FrameError, Framing, LengthPrefixed};

/// Why a send or receive failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The socket failed (refused, reset, …).
    #[error("SimProt connection: {0}")]
    Io(#[from] std::io::Error),
    /// A frame was bad. After [`FrameError::Payload`] the connection stays usable (the frame
    /// was consumed); after any other frame error it is closed (see `docs/simprot-framing.md`).
    #[error("SimProt connection: {0}")]
    Frame(#[from] FrameError),
    /// The connection was closed after an earlier error; connect again.
    #[error("SimProt connection: closed after an earlier error: {0}")]
    Closed(String),
}

/// A TCP connection speaking SimProt with framing `F`.
#[derive(Debug)]
pub struct Connection<F: Framing = LengthPrefixed> {
    stream: TcpStream,
    decoder: Decoder<F>,
    read_buf: Vec<u8>,
    out: Vec<u8>,
    /// Why the connection was closed, once it was.
    closed: Option<String>,
}

impl Connection<LengthPrefixed> {
    /// Connects with the default framing (see [`crate::framing`]: an assumption).
    pub async fn connect(addr: impl ToSocketAddrs) -> Result<Self, ConnectionError> {
        Ok(Self::new(TcpStream::connect(addr).await?, LengthPrefixed::default()))
    }
}

impl<F: Framing> Connection<F> {
    /// Wraps an open stream (Nagle is switched off: messages are small and interactive).
    pub fn new(stream: TcpStream, framing: F) -> Self {
        let _ = stream.set_nodelay(true);
        Self {
            stream,
            decoder: Decoder::new(framing),
            read_buf: vec![0; 16 * 1024],
            out: Vec::new(),
            closed: None,
        }
    }

    /// Sends one message (written whole before returning).
    pub async fn send(&mut self, message: &Message) -> Result<(), ConnectionError> {
        self.check_open()?;
        self.out.clear();
        self.decoder.framing().encode(message, &mut self.out)?;
        self.stream.write_all(&self.out).await?;
        Ok(())
    }

    /// Writes bytes as they are (the simulator's garbage-frame fault).
    #[cfg(feature = "sim")]
    pub(crate) async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ConnectionError> {
        self.check_open()?;
        self.stream.write_all(bytes).await?;
        Ok(())
    }

    /// The next message; `Ok(None)` when the peer closed the connection between frames.
    ///
    /// Cancel-safe: dropping the future (in `tokio::select!`, or on a timeout) loses nothing;
    /// bytes already read stay buffered for the next call. A garbage, oversize or truncated
    /// frame closes the connection (the socket is shut down) and is returned as
    /// [`ConnectionError::Frame`]; later calls return [`ConnectionError::Closed`].
    pub async fn recv(&mut self) -> Result<Option<Message>, ConnectionError> {
        self.check_open()?;
        match self.read_message().await {
            Err(ConnectionError::Frame(FrameError::Payload(e))) => Err(FrameError::Payload(e).into()),
            Err(err) => {
                self.closed = Some(err.to_string());
                let _ = self.stream.shutdown().await;
                Err(err)
            }
            ok => ok,
        }
    }

    async fn read_message(&mut self) -> Result<Option<Message>, ConnectionError> {
        loop {
            if let Some(message) = self.decoder.next_message()? {
                return Ok(Some(message));
            }
            let n = self.stream.read(&mut self.read_buf).await?;
            if n == 0 {
                self.decoder.finish()?;
                return Ok(None);
            }
            self.decoder.extend(&self.read_buf[..n]);
        }
    }

    fn check_open(&self) -> Result<(), ConnectionError> {
        match &self.closed {
            Some(why) => Err(ConnectionError::Closed(why.clone())),
            None => Ok(()),
        }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.stream.peer_addr()
    }
}

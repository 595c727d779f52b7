//! Sockets bound to the address the session listens on, so that a client given one address
//! of a multi-homed host (`--listen IP`) also connects and announces from it: trackers then
//! record the address peers can reach, and peers that allow one connection per address
//! (transmission) are not confused by a second one.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::{TcpSocket, TcpStream, UdpSocket};

/// `bind` when it is of the same family as `target`.
fn source(bind: Option<IpAddr>, target: &SocketAddr) -> Option<IpAddr> {
    bind.filter(|ip| ip.is_ipv4() == target.is_ipv4())
}

/// Connects to `target`, from `bind` when it fits.
pub async fn connect(target: SocketAddr, bind: Option<IpAddr>) -> io::Result<TcpStream> {
    let Some(ip) = source(bind, &target) else {
        return TcpStream::connect(target).await;
    };
    let socket = if target.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(ip, 0))?;
    socket.connect(target).await
}

/// A UDP socket for talking to `target`, bound to `bind` when it fits.
pub async fn udp_for(target: SocketAddr, bind: Option<IpAddr>) -> io::Result<UdpSocket> {
    let ip = source(bind, &target).unwrap_or(if target.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    });
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
    socket.connect(target).await?;
    Ok(socket)
}

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

/// Raises the soft limit on open files to the hard limit (Unix): every peer connection and
/// every open file of the torrents takes a descriptor, and many systems start processes with
/// a soft limit of 1,024 under a far higher hard one. Failures are logged and ignored: the
/// session works within the limit it has.
pub fn raise_fd_limit() {
    #[cfg(unix)]
    {
        use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, setrlimit};
        let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
            return;
        };
        // Linux refuses RLIM_INFINITY for this limit (it stops at fs.nr_open, 2^20 by default).
        let target = if hard == RLIM_INFINITY { 1 << 20 } else { hard };
        if soft >= target {
            return;
        }
        match setrlimit(Resource::RLIMIT_NOFILE, target, hard) {
            Ok(()) => tracing::debug!(from = soft, to = target, "raised the open-file limit"),
            Err(e) => tracing::debug!(soft, hard, error = %e, "could not raise the open-file limit"),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, setrlimit};

    /// Set in the child process the test starts.
    const CHILD: &str = "NEXSUJ_TEST_RLIMIT_CHILD";

    #[test]
    fn the_soft_open_file_limit_is_raised_to_the_hard_one() {
        if std::env::var_os(CHILD).is_some() {
            // The child: a low soft limit, as many systems start processes with.
            let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
            setrlimit(Resource::RLIMIT_NOFILE, 64.min(hard), hard).unwrap();
            super::raise_fd_limit();
            let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
            assert_eq!(soft, if hard == RLIM_INFINITY { 1 << 20 } else { hard });
            return;
        }
        // Changing the limit of this process would change it for the tests running beside
        // this one: the check runs in a child process.
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "net::tests::the_soft_open_file_limit_is_raised_to_the_hard_one",
            ])
            .arg("--nocapture")
            .env(CHILD, "1")
            .status()
            .unwrap();
        assert!(status.success());
    }
}

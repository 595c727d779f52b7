//! The WebSockets over real connections: seed 001's signaling relay and the WebTorrent
//! tracker protocol.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{get_json, start};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A WebSocket to `path`, from `from` (a loopback address of our choice).
async fn socket(
    server: SocketAddr,
    from: &str,
    path: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let stream = tcp.connect(server).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{server}{path}"), stream).await?;
    Ok(ws)
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

async fn next(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message in time")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = m {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

async fn viewer(server: SocketAddr, channel: &str) -> String {
    let (status, v) = get_json(server, &format!("/announce?info_hash={channel}")).await;
    assert_eq!(status, 200);
    v["peer_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_answers_and_candidates_are_relayed_between_viewers_of_a_channel() {
    let s = start(|_| {}).await;
    let (a, b) = (viewer(s.addr, "chan").await, viewer(s.addr, "chan").await);
    let mut wa = socket(s.addr, "127.0.0.1", &format!("/signal?peer_id={a}"))
        .await
        .unwrap();
    let mut wb = socket(s.addr, "127.0.0.1", &format!("/signal?peer_id={b}"))
        .await
        .unwrap();
    // An answer nobody asked for is refused.
    send(
        &mut wb,
        json!({"action": "signal", "to_peer_id": a, "data": {"type": "answer", "sdp": "x"}}),
    )
    .await;
    assert_eq!(next(&mut wb).await["error"], "answer to no offer");
    send(
        &mut wa,
        json!({"action": "signal", "to_peer_id": b, "data": {"type": "offer", "sdp": "v=0 offer"}}),
    )
    .await;
    assert_eq!(
        next(&mut wb).await,
        json!({"action": "signal", "from_peer_id": a, "data": {"type": "offer", "sdp": "v=0 offer"}})
    );
    send(
        &mut wb,
        json!({"action": "signal", "to_peer_id": a, "data": {"type": "answer", "sdp": "v=0 answer"}}),
    )
    .await;
    assert_eq!(next(&mut wa).await["data"]["sdp"], "v=0 answer");
    send(&mut wb, json!({"action": "signal", "to_peer_id": a, "data": {"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host"}}})).await;
    assert_eq!(next(&mut wa).await["from_peer_id"], b.as_str());
    // A viewer of another channel cannot be reached.
    let c = viewer(s.addr, "other").await;
    let mut wc = socket(s.addr, "127.0.0.1", &format!("/signal?peer_id={c}"))
        .await
        .unwrap();
    send(
        &mut wc,
        json!({"action": "signal", "to_peer_id": a, "data": {"type": "offer", "sdp": "x"}}),
    )
    .await;
    assert_eq!(next(&mut wc).await["error"], "to_peer_id watches another channel");
    // A target that is gone: the empty signal comes back; a closed socket forgets its viewer.
    wb.close(None).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s
        .app
        .relay
        .lock()
        .unwrap()
        .connected(&live::peer::LivePeerId::parse(&b).unwrap())
    {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    send(
        &mut wa,
        json!({"action": "signal", "to_peer_id": b, "data": {"type": "offer", "sdp": "again"}}),
    )
    .await;
    assert_eq!(
        next(&mut wa).await,
        json!({"action": "signal", "from_peer_id": b})
    );
    let (status, _) = get_json(
        s.addr,
        &format!(
            "/get_peers?info_hash={}&peer_id={b}",
            live::peer::channel_id("chan").unwrap().to_hex()
        ),
    )
    .await;
    assert_eq!(status, 404, "forgotten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signaling_sockets_are_checked_and_capped() {
    let s = start(|c| {
        c.live.max_sockets_per_ip = 2;
        c.live.messages_per_second = 2;
    })
    .await;
    let a = viewer(s.addr, "chan").await;
    assert!(
        socket(s.addr, "127.0.0.1", "/signal?peer_id=abcdefghij0123456789")
            .await
            .is_err(),
        "unknown peer"
    );
    assert!(
        socket(s.addr, "127.0.0.2", &format!("/signal?peer_id={a}"))
            .await
            .is_err(),
        "another address"
    );
    let mut wa = socket(s.addr, "127.0.0.1", &format!("/signal?peer_id={a}"))
        .await
        .unwrap();
    let b = viewer(s.addr, "chan").await;
    let _wb = socket(s.addr, "127.0.0.1", &format!("/signal?peer_id={b}"))
        .await
        .unwrap();
    let c = viewer(s.addr, "chan").await;
    assert!(
        socket(s.addr, "127.0.0.1", &format!("/signal?peer_id={c}"))
            .await
            .is_err(),
        "third socket from one address"
    );
    // Rate: 2 a second with a burst of 4; the rest get an error back.
    let mut limited = 0;
    for _ in 0..8 {
        send(
            &mut wa,
            json!({"action": "signal", "to_peer_id": b, "data": {"type": "offer", "sdp": "x"}}),
        )
        .await;
    }
    for _ in 0..8 {
        if next(&mut wa).await.get("error").and_then(Value::as_str) == Some("too many messages") {
            limited += 1;
        }
        if limited >= 3 {
            break;
        }
    }
    assert!(limited >= 3, "{limited}");
    // Oversized messages close the socket.
    wa.send(Message::Text("x".repeat(70_000).into())).await.ok();
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match wa.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                _ => {}
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the socket closes");
}

fn b20(c: char) -> String {
    std::iter::repeat_n(c, 20).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webtorrent_tracker_forwards_offers_and_answers() {
    let s = start(|_| {}).await;
    let ih = "\u{1}\u{ff}abcdefghijklmnopqr".to_owned();
    let (pa, pb) = (b20('a'), b20('b'));
    let mut wa = socket(s.addr, "127.0.0.1", "/webtorrent").await.unwrap();
    let mut wb = socket(s.addr, "127.0.0.1", "/webtorrent").await.unwrap();
    send(
        &mut wb,
        json!({"action": "announce", "info_hash": ih, "peer_id": pb, "left": 0, "numwant": 5, "offers": []}),
    )
    .await;
    let r = next(&mut wb).await;
    assert_eq!(
        (
            r["action"].as_str(),
            r["complete"].as_u64(),
            r["interval"].as_u64()
        ),
        (Some("announce"), Some(1), Some(120))
    );
    let offer_id = b20('o');
    send(&mut wa, json!({"action": "announce", "info_hash": ih, "peer_id": pa, "left": 100, "numwant": 5,
        "offers": [{"offer": {"type": "offer", "sdp": "v=0 A"}, "offer_id": offer_id}, {"offer": {"type": "offer", "sdp": "v=0 A2"}, "offer_id": b20('p')}]})).await;
    let r = next(&mut wa).await;
    assert_eq!(
        (r["complete"].as_u64(), r["incomplete"].as_u64()),
        (Some(1), Some(1))
    );
    let offered = next(&mut wb).await;
    assert_eq!(
        offered,
        json!({"action": "announce", "offer": {"type": "offer", "sdp": "v=0 A"}, "offer_id": offer_id, "peer_id": pa, "info_hash": ih})
    );
    // A forged answer (an offer never sent to us) is refused; the real one goes to A.
    send(&mut wb, json!({"action": "announce", "info_hash": ih, "peer_id": pb, "to_peer_id": pa, "answer": {"type": "answer", "sdp": "x"}, "offer_id": b20('z')})).await;
    assert!(
        next(&mut wb).await["failure reason"]
            .as_str()
            .unwrap()
            .contains("no offer")
    );
    send(&mut wb, json!({"action": "announce", "info_hash": ih, "peer_id": pb, "to_peer_id": pa, "answer": {"type": "answer", "sdp": "v=0 B"}, "offer_id": offer_id})).await;
    assert_eq!(
        next(&mut wa).await,
        json!({"action": "announce", "answer": {"type": "answer", "sdp": "v=0 B"}, "offer_id": offer_id, "peer_id": pb, "info_hash": ih})
    );
    send(&mut wa, json!({"action": "scrape", "info_hash": [ih]})).await;
    assert_eq!(
        next(&mut wa).await["files"][&ih],
        json!({"complete": 1, "incomplete": 1, "downloaded": 0})
    );
    send(
        &mut wa,
        json!({"action": "announce", "info_hash": "short", "peer_id": pa}),
    )
    .await;
    assert!(
        next(&mut wa).await["failure reason"]
            .as_str()
            .unwrap()
            .contains("info_hash")
    );
    // B leaves (its socket closes): the swarm shrinks.
    drop(wb);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        send(&mut wa, json!({"action": "scrape", "info_hash": ih})).await;
        if next(&mut wa).await["files"][&ih]["complete"] == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "B never left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

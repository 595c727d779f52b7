/*
 * nexsuj-p2p.js — the browser side of `nexsuj live` (seed 001): viewers of one HLS stream fetch its
 * segments from each other over WebRTC data channels and from the origin only what peers cannot give in
 * time. Playback never waits on P2P: a segment the player needs soon comes over HTTP, and every P2P
 * request falls back to HTTP on a timeout, an ERROR, a PIECE_NOT_FOUND, or a piece whose bytes do not add
 * up to its size.
 *
 *   const engine = new NexsujP2P.Engine({ tracker: 'http://127.0.0.1:8082', channel: m3u8Url, media: video });
 *   await engine.start();
 *   const hls = new Hls(NexsujP2P.hlsConfig(Hls, engine, { liveSyncDurationCount: 3 }));
 *
 * The data-channel messages mirror crates/live/src/datachannel.rs (JSON text frames tagged by `event`;
 * a PIECE header is followed by `attachments` binary frames of at most 64 KiB).
 */
(function (global) {
  'use strict';

  const MAX_CHUNK = 64 * 1024;
  const MAX_PIECE = 64 * 1024 * 1024;

  /** The frames that carry `bytes` (an ArrayBuffer): the PIECE header, then the chunks. */
  function pieceFrames(url, sn, bytes) {
    const chunks = [];
    for (let at = 0; at < bytes.byteLength; at += MAX_CHUNK) chunks.push(bytes.slice(at, at + MAX_CHUNK));
    return { header: { event: 'PIECE', attachments: chunks.length, url, sn, size: bytes.byteLength }, chunks };
  }

  /** Collects the binary frames of one piece; throws on anything that does not add up. */
  class Assembler {
    constructor(url, sn, size, attachments) {
      const fits = Number.isSafeInteger(size) && size > 0 && size <= MAX_PIECE &&
        attachments === Math.ceil(size / MAX_CHUNK);
      if (!fits) throw new Error(`implausible header: ${size} bytes in ${attachments} chunks`);
      Object.assign(this, { url, sn, size, left: attachments, got: 0, buf: new Uint8Array(size) });
    }
    /** Adds a chunk (ArrayBuffer); the segment's ArrayBuffer when it was the last, else null. */
    push(chunk) {
      if (this.left === 0 || chunk.byteLength > MAX_CHUNK || this.got + chunk.byteLength > this.size) {
        throw new Error('more bytes than announced');
      }
      this.buf.set(new Uint8Array(chunk), this.got);
      this.got += chunk.byteLength;
      this.left -= 1;
      if (this.left > 0) return null;
      if (this.got !== this.size) throw new Error(`${this.got} bytes, ${this.size} announced`);
      return this.buf.buffer;
    }
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  /** One WebRTC connection to another viewer, with its data channel. */
  class Peer {
    constructor(engine, id, initiator) {
      Object.assign(this, { engine, id, initiator, have: new Set(), open: false, closed: false });
      this.pending = null;        // our request in flight: {sn, resolve, reject, timer, asm}
      this.uploads = [];          // sns asked of us, served one at a time
      this.uploading = false;
      this.pc = new RTCPeerConnection(engine.opts.rtcConfig);
      this.pc.onicecandidate = (e) => { if (e.candidate) engine.signal(id, { candidate: e.candidate.toJSON() }); };
      this.pc.onconnectionstatechange = () => {
        const s = this.pc.connectionState;
        if (s === 'failed' || s === 'closed' || s === 'disconnected') this.close(s === 'failed');
      };
      if (initiator) {
        this.attach(this.pc.createDataChannel('nexsuj', { ordered: true }));
        this.pc.createOffer().then((o) => this.pc.setLocalDescription(o))
          .then(() => engine.signal(id, { type: 'offer', sdp: this.pc.localDescription.sdp }))
          .catch(() => this.close(true));
      } else {
        this.pc.ondatachannel = (e) => this.attach(e.channel);
      }
      this.deadline = setTimeout(() => { if (!this.open) this.close(true); }, engine.opts.connectTimeout);
    }

    attach(dc) {
      this.dc = dc;
      dc.binaryType = 'arraybuffer';
      dc.bufferedAmountLowThreshold = 256 * 1024;
      dc.onopen = () => {
        this.open = true;
        clearTimeout(this.deadline);
        this.engine.stats.conns += 1;
        this.send({ event: 'BITFIELD', field: [...this.engine.segments.keys()] });
        this.engine.changed();
      };
      dc.onclose = () => this.close(false);
      dc.onmessage = (e) => this.onMessage(e.data);
    }

    async onSignal(data) {
      try {
        if (data.type === 'offer' || data.type === 'answer') {
          await this.pc.setRemoteDescription({ type: data.type, sdp: data.sdp });
          if (data.type === 'offer') {
            await this.pc.setLocalDescription(await this.pc.createAnswer());
            this.engine.signal(this.id, { type: 'answer', sdp: this.pc.localDescription.sdp });
          }
        } else if (data.candidate) {
          await this.pc.addIceCandidate(data.candidate);
        }
      } catch (e) {
        this.close(true);
      }
    }

    send(msg) {
      if (this.open && this.dc.readyState === 'open') this.dc.send(typeof msg === 'string' || msg instanceof ArrayBuffer ? msg : JSON.stringify(msg));
    }

    onMessage(data) {
      if (data instanceof ArrayBuffer) return this.onChunk(data);
      let m;
      try { m = JSON.parse(data); } catch (e) { return; }
      switch (m.event) {
        case 'BITFIELD': this.have = new Set((m.field || []).filter(Number.isSafeInteger)); this.engine.changed(); break;
        case 'HAVE': this.have.add(m.sn); this.engine.onHave(this, m.sn); break;
        case 'LOST': this.have.delete(m.sn); break;
        case 'REQUEST': this.uploads.push(m.sn); this.serve(); break;
        case 'PIECE': this.onPiece(m); break;
        case 'PIECE_ACK': this.uploading = false; this.serve(); break;
        case 'PIECE_NOT_FOUND': if (this.pending && this.pending.sn === m.sn) this.fail('not found'); this.have.delete(m.sn); break;
        case 'ERROR': if (this.pending) this.fail('error'); break;
        case 'CLOSE': this.close(false); break;
      }
    }

    onPiece(m) {
      const p = this.pending;
      if (!p || p.sn !== m.sn) { this.send({ event: 'ERROR' }); return; }
      try { p.asm = new Assembler(m.url, m.sn, m.size, m.attachments); } catch (e) { this.fail(e.message); }
    }

    onChunk(chunk) {
      const p = this.pending;
      if (!p || !p.asm) return;
      let done;
      try { done = p.asm.push(chunk); } catch (e) { this.fail(e.message); return; }
      if (!done) return;
      this.send({ event: 'PIECE_ACK', url: p.asm.url, sn: p.sn });
      clearTimeout(p.timer);
      this.pending = null;
      p.resolve(done);
    }

    fail(why) {
      const p = this.pending;
      if (!p) return;
      clearTimeout(p.timer);
      this.pending = null;
      p.reject(new Error(why));
    }

    /** Asks for segment `sn`; the bytes, or a rejection after `timeout` ms. */
    request(sn, urgent, timeout) {
      return new Promise((resolve, reject) => {
        this.pending = { sn, resolve, reject, asm: null, timer: setTimeout(() => this.fail('timeout'), timeout) };
        this.send({ event: 'REQUEST', sn, urgent });
      });
    }

    /** Sends the asked-for segments one at a time, each after the previous one's PIECE_ACK. */
    async serve() {
      if (this.uploading || !this.uploads.length || !this.open) return;
      const sn = this.uploads.shift();
      const seg = this.engine.segments.get(sn);
      if (!seg) { this.send({ event: 'PIECE_NOT_FOUND', sn }); return this.serve(); }
      this.uploading = true;
      const { header, chunks } = pieceFrames(seg.url, sn, seg.data);
      this.send(header);
      for (const c of chunks) {
        while (this.dc.bufferedAmount > 1024 * 1024) {
          await new Promise((r) => { this.dc.onbufferedamountlow = r; setTimeout(r, 200); });
          if (!this.open) return;
        }
        this.send(c);
      }
      this.engine.stats.uploaded += seg.data.byteLength;
      // Whatever happens to the ACK, the queue moves on.
      setTimeout(() => { if (this.uploading) { this.uploading = false; this.serve(); } }, 5000);
    }

    close(failed) {
      if (this.closed) return;
      this.closed = true;
      clearTimeout(this.deadline);
      if (failed && !this.open) this.engine.stats.failConns += 1;
      this.fail('closed');
      try { this.send({ event: 'CLOSE' }); } catch (e) { /* closing anyway */ }
      try { this.pc.close(); } catch (e) { /* closing anyway */ }
      this.open = false;
      this.engine.forget(this);
    }
  }

  /** One viewer: the tracker, the signaling socket, the peers, the segments held. */
  class Engine {
    constructor(opts) {
      this.opts = Object.assign({
        device: /Mobi|Android/i.test(global.navigator ? navigator.userAgent : '') ? 'mobile' : 'PC',
        rtcConfig: { iceServers: [] },
        maxPeers: 8,
        urgentSeconds: 4,       // less buffered than this: the segment comes over HTTP at once
        p2pTimeout: 2500,       // a P2P request not done by then goes to HTTP
        waitForPeer: 1500,      // with enough buffered, wait up to this long for a peer to have a segment
        connectTimeout: 10000,
        keep: 30,               // segments held for others
      }, opts);
      this.stats = { http: 0, p2p: 0, uploaded: 0, conns: 0, failConns: 0 };
      // Why segments came over HTTP: needed soon, no peer had them in time, a P2P request failed.
      this.why = { urgent: 0, nobody: 0, failed: 0 };
      this.reported = { http: 0, p2p: 0, conns: 0, failConns: 0 };
      this.segments = new Map();   // sn -> {url, data, from}
      this.peers = new Map();      // id -> Peer
      this.waiters = new Map();    // sn -> [resolve]
      this.timers = [];
      this.listeners = [];
    }

    base() { return this.opts.tracker.replace(/\/$/, ''); }

    query(extra) {
      const q = new URLSearchParams(Object.assign({ info_hash: this.opts.channel, peer_id: this.peerId }, extra));
      return q.toString();
    }

    async start() {
      const ua = global.navigator ? navigator.userAgent : '';
      const browser = (ua.match(/(Chrome|Firefox|Safari|Edg)\/[\d.]+/) || ['unknown'])[0].slice(0, 64);
      const os = (ua.match(/\(([^;)]+)/) || ['', 'unknown'])[1].slice(0, 64);
      const r = await fetch(`${this.base()}/announce?` + new URLSearchParams({ info_hash: this.opts.channel, browser, device: this.opts.device, os }));
      if (!r.ok) throw new Error(`announce: ${r.status} ${await r.text()}`);
      const a = await r.json();
      this.peerId = a.peer_id;
      this.ws = new WebSocket(this.base().replace(/^http/, 'ws') + '/signal?peer_id=' + this.peerId);
      this.ws.onmessage = (e) => this.onSignal(JSON.parse(e.data));
      await new Promise((res, rej) => { this.ws.onopen = res; this.ws.onerror = rej; });
      this.connect(a.peers);
      this.timers.push(setInterval(() => fetch(`${this.base()}/heartbeat?` + this.query()).catch(() => {}), a.heartbeat_interval * 1000));
      this.timers.push(setInterval(() => this.report(), a.report_interval * 1000));
      this.timers.push(setInterval(() => this.morePeers(), 5000));
      return this;
    }

    async report() {
      const now = { http: this.stats.http, p2p: this.stats.p2p, conns: this.stats.conns, failConns: this.stats.failConns };
      const body = { source: now.http - this.reported.http, p2p: now.p2p - this.reported.p2p,
        conns: now.conns - this.reported.conns, failConns: now.failConns - this.reported.failConns };
      try {
        const r = await fetch(`${this.base()}/stats?` + this.query(), { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
        if (r.ok) this.reported = now;   // deltas since the last report that got through
      } catch (e) { /* next time */ }
    }

    async morePeers() {
      if (this.peers.size >= this.opts.maxPeers) return;
      try {
        const r = await fetch(`${this.base()}/get_peers?` + this.query());
        if (r.ok) this.connect((await r.json()).peers);
      } catch (e) { /* next time */ }
    }

    connect(list) {
      for (const { id } of list || []) {
        if (this.peers.size >= this.opts.maxPeers) break;
        if (id !== this.peerId && !this.peers.has(id)) this.peers.set(id, new Peer(this, id, true));
      }
    }

    signal(to, data) {
      if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify({ action: 'signal', to_peer_id: to, data }));
    }

    onSignal(m) {
      if (m.action !== 'signal' || !m.from_peer_id) return;
      let p = this.peers.get(m.from_peer_id);
      if (!m.data) { if (p) p.close(true); return; }          // the target is gone
      if (m.data.type === 'offer') {
        // Both offered at once: the lower id keeps its own offer.
        if (p && p.initiator && !p.open) { if (this.peerId < m.from_peer_id) return; p.closed = true; p.pc.close(); this.peers.delete(p.id); p = null; }
        if (!p) {
          if (this.peers.size >= this.opts.maxPeers * 2) return;
          p = new Peer(this, m.from_peer_id, false);
          this.peers.set(p.id, p);
        }
      }
      if (p) p.onSignal(m.data);
    }

    forget(p) { if (this.peers.get(p.id) === p) this.peers.delete(p.id); this.changed(); }

    changed() { for (const f of this.listeners) f(this); }

    onHave(peer, sn) {
      const w = this.waiters.get(sn);
      if (w) { this.waiters.delete(sn); w.forEach((r) => r(peer)); }
    }

    /** Seconds of media buffered ahead of the playhead. */
    buffered() {
      const m = this.opts.media;
      if (!m || !m.buffered) return 0;
      for (let i = 0; i < m.buffered.length; i++) {
        if (m.buffered.start(i) <= m.currentTime + 0.1 && m.currentTime < m.buffered.end(i)) return m.buffered.end(i) - m.currentTime;
      }
      return 0;
    }

    holders(sn) { return [...this.peers.values()].filter((p) => p.open && !p.pending && p.have.has(sn)); }

    /** Segment `sn` at `url`: held, from a peer, or over HTTP; its bytes. */
    async segment(sn, url) {
      const held = this.segments.get(sn);
      if (held) return held.data;
      const urgent = this.buffered() < this.opts.urgentSeconds;
      let data = null;
      if (!urgent) {
        let peer = this.holders(sn)[0];
        if (!peer) {
          // Someone may be fetching it right now: wait a little (at random, so one viewer goes first).
          const wait = Math.random() * this.opts.waitForPeer;
          peer = await Promise.race([new Promise((r) => (this.waiters.get(sn) || this.waiters.set(sn, []).get(sn)).push(r)), sleep(wait).then(() => null)]);
          if (peer && (peer.pending || !peer.open)) peer = this.holders(sn)[0];
        }
        if (peer) {
          try {
            data = await peer.request(sn, false, this.opts.p2pTimeout);
            this.stats.p2p += data.byteLength;
            this.store(sn, url, data, 'p2p');
          } catch (e) { data = null; this.why.failed += 1; }
        } else {
          this.why.nobody += 1;
        }
      } else {
        this.why.urgent += 1;
      }
      if (!data) {
        const r = await fetch(url);
        if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}`), { code: r.status });
        data = await r.arrayBuffer();
        this.stats.http += data.byteLength;
        this.store(sn, url, data, 'http');
      }
      return data;
    }

    store(sn, url, data, from) {
      if (this.segments.has(sn)) return;
      this.segments.set(sn, { url, data, from });
      for (const p of this.peers.values()) p.send({ event: 'HAVE', sn });
      this.onHave(null, sn);
      while (this.segments.size > this.opts.keep) {
        const old = Math.min(...this.segments.keys());
        this.segments.delete(old);
        for (const p of this.peers.values()) p.send({ event: 'LOST', sn: old });
      }
      this.changed();
    }

    destroy() {
      this.timers.forEach(clearInterval);
      for (const p of [...this.peers.values()]) p.close(false);
      if (this.ws) this.ws.close();
    }
  }

  /** An hls.js fragment loader that takes segments through `engine`; other requests go to hls.js's own. */
  function fragmentLoader(Hls, engine) {
    return class NexsujFragmentLoader {
      constructor(config) { this.config = config; this.aborted = false; this.context = null; this.stats = newStats(); }
      load(context, config, callbacks) {
        this.context = context;
        const stats = this.stats;
        stats.loading.start = performance.now();
        const sn = context.frag && context.frag.sn;
        if (typeof sn !== 'number' || context.rangeStart || context.rangeEnd) {
          this.inner = new Hls.DefaultConfig.loader(this.config);
          this.stats = this.inner.stats;
          return this.inner.load(context, config, callbacks);
        }
        engine.segment(sn, context.url).then((data) => {
          if (this.aborted) return;
          stats.loading.first = stats.loading.end = performance.now();
          stats.loaded = stats.total = data.byteLength;
          // hls.js may transfer the buffer to a worker: it gets a copy, the engine keeps its own.
          callbacks.onSuccess({ url: context.url, data: data.slice(0) }, stats, context, null);
        }, (e) => {
          if (!this.aborted) callbacks.onError({ code: e.code || 0, text: String(e.message || e) }, context, null, stats);
        });
      }
      abort() { this.aborted = true; this.stats.aborted = true; if (this.inner) this.inner.abort(); }
      destroy() { this.abort(); if (this.inner) this.inner.destroy(); }
    };
  }

  function newStats() {
    return { aborted: false, loaded: 0, retry: 0, total: 0, chunkCount: 0, bwEstimate: 0,
      loading: { start: 0, first: 0, end: 0 }, parsing: { start: 0, end: 0 }, buffering: { start: 0, first: 0, end: 0 } };
  }

  /** hls.js settings that route segments through `engine`. */
  function hlsConfig(Hls, engine, extra) {
    return Object.assign({}, extra || {}, { fLoader: fragmentLoader(Hls, engine) });
  }

  global.NexsujP2P = { Engine, Assembler, pieceFrames, hlsConfig, MAX_CHUNK, MAX_PIECE };
})(typeof window !== 'undefined' ? window : globalThis);

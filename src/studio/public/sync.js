// Synchronized players: one control drives every <video> of a task. The longest video is the clock;
// play starts all from the clock's time, pause stops all and aligns them to it, seek / frame steps /
// speed apply to all (a shorter video holds its last frame). While playing, a follower that drifts
// more than `tolerance` seconds from the clock is moved back to it. Frame steps use the frame
// duration seen through requestVideoFrameCallback when the browser offers it, else 1/30 s.

export class SyncedPlayers {
  /** @param {HTMLVideoElement[]} videos @param {{onTime?: (t: number) => void, tolerance?: number}} o */
  constructor(videos, o = {}) {
    this.videos = videos;
    this.onTime = o.onTime ?? (() => {});
    this.tolerance = o.tolerance ?? 0.1;
    this.frame = 1 / 30;
    this.clock = videos[0];
    this.playing = false;
    for (const v of videos) {
      v.muted = true;
      v.playsInline = true;
      v.preload = 'auto';
      v.addEventListener('loadedmetadata', () => this.pickClock());
      v.addEventListener('timeupdate', () => v === this.clock && this.onTime(v.currentTime));
      v.addEventListener('seeked', () => v === this.clock && this.onTime(v.currentTime));
      v.addEventListener('ended', () => v === this.clock && this.pause());
    }
    this.pickClock();
    this.watchFrames();
  }

  get duration() {
    return Math.max(0, ...this.videos.map((v) => (Number.isFinite(v.duration) ? v.duration : 0)));
  }

  get time() {
    return this.clock.currentTime;
  }

  pickClock() {
    let best = this.videos[0];
    for (const v of this.videos) if ((v.duration || 0) > (best.duration || 0)) best = v;
    this.clock = best;
  }

  watchFrames() {
    const v = this.videos[0];
    if (!v.requestVideoFrameCallback) return;
    let last = null;
    const cb = (_now, meta) => {
      if (last !== null && meta.mediaTime > last) {
        const d = meta.mediaTime - last;
        if (d > 1 / 240 && d < 1 / 5) this.frame = Math.min(this.frame, d);
      }
      last = meta.mediaTime;
      v.requestVideoFrameCallback(cb);
    };
    v.requestVideoFrameCallback(cb);
  }

  async play() {
    const t = this.time;
    this.playing = true;
    for (const v of this.videos) if (v !== this.clock) v.currentTime = Math.min(t, v.duration || t);
    await Promise.all(this.videos.map((v) => v.play().catch(() => {})));
    this.follow();
  }

  pause() {
    this.playing = false;
    for (const v of this.videos) v.pause();
    this.align();
    this.onTime(this.time);
  }

  toggle() {
    return this.playing ? this.pause() : this.play();
  }

  /** Put every follower at the clock's time (clamped to its own length). */
  align() {
    const t = this.time;
    for (const v of this.videos) if (v !== this.clock) v.currentTime = Math.min(t, v.duration || t);
  }

  follow() {
    if (!this.playing) return;
    const t = this.time;
    for (const v of this.videos)
      if (v !== this.clock && !v.seeking && t < (v.duration || 0) && Math.abs(v.currentTime - t) > this.tolerance)
        v.currentTime = t;
    requestAnimationFrame(() => this.follow());
  }

  seek(t) {
    const to = Math.max(0, Math.min(t, this.duration || t));
    for (const v of this.videos) v.currentTime = Math.min(to, v.duration || to);
    this.onTime(to);
  }

  step(frames) {
    this.pause();
    this.seek(this.time + frames * this.frame);
  }

  setRate(r) {
    for (const v of this.videos) v.playbackRate = r;
  }
}

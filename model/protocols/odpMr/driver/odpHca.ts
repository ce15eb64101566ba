/**
 * The simulated mlx5-like HCA of odp-mr: the MTT memory keys (the explicit MR, or an implicit MR's
 * children), each with its translation of every page; for an implicit MR the parent's KSM mkey,
 * whose entry for each chunk names the child mkey that translates it; UMR work requests that the
 * device applies to them; and one access slot whose accesses are translated through the keys. Why
 * this module exists: every change to a device translation table must be a UMR post the device
 * applies (so the device tables and the driver's view can be compared), and a UMR on a revoked mkey
 * must fail the way the hardware fails it: an error completion that moves the UMR QP to error.
 */

/** A UMR work request. */
export type Umr =
  | { readonly op: 'mtt'; readonly mkey: number; readonly page: number; readonly frame: number }
  | { readonly op: 'zap'; readonly mkey: number; readonly page: number }
  | { readonly op: 'revoke'; readonly mkey: number }
  | { readonly op: 'ksm'; readonly chunk: number; readonly child: number | null }
  | { readonly op: 'revoke-parent' };

/** The state of the access slot. */
export type AccState = 'idle' | 'inflight' | 'faulted' | 'pending' | 'failed';

/** The device's one access slot: its page, the frame it translated to, and the MTT key it went through. */
export interface HcaAccess {
  state: AccState;
  page: number;
  frame: number;
  via: number;
}

export class OdpHca {
  /** Whether each MTT mkey is valid (the revoke UMR clears it). */
  readonly mkey: boolean[];
  /** mtt[m][p]: MTT key m's translation of page p, or null. */
  readonly mtt: (number | null)[][];
  /** The implicit parent's KSM mkey (null for an explicit MR). */
  readonly parent: { valid: boolean; readonly ksm: (number | null)[] } | null;
  readonly chunkOf: (p: number) => number;
  /** The first UMR that failed with an error completion (the UMR QP is in error from then on). */
  umrError: Umr | null = null;
  readonly acc: HcaAccess = { state: 'idle', page: 0, frame: 0, via: 0 };

  constructor(cfg: { keys: number; pages: number; chunks: number | null; chunkOf: (p: number) => number }) {
    this.mkey = Array.from({ length: cfg.keys }, () => false);
    this.mtt = Array.from({ length: cfg.keys }, () => Array.from({ length: cfg.pages }, () => null));
    this.parent = cfg.chunks === null ? null : { valid: true, ksm: Array.from({ length: cfg.chunks }, () => null) };
    this.chunkOf = cfg.chunkOf;
  }

  private fail(w: Umr): boolean {
    this.umrError ??= w;
    return false;
  }

  /** Posts a UMR and waits for its completion: applied, or an error completion on a revoked mkey. Returns whether it succeeded. */
  postUmr(w: Umr): boolean {
    if (w.op === 'ksm' || w.op === 'revoke-parent') {
      const par = this.parent;
      if (!par?.valid) return this.fail(w);
      if (w.op === 'ksm') par.ksm[w.chunk] = w.child;
      else par.valid = false;
      return true;
    }
    if (!this.mkey[w.mkey]) return this.fail(w);
    const t = this.mtt[w.mkey] as (number | null)[];
    if (w.op === 'mtt') t[w.page] = w.frame;
    else if (w.op === 'zap') t[w.page] = null;
    else this.mkey[w.mkey] = false;
    return true;
  }

  /** Translates the slot's access of its page: through the KSM for an implicit MR, then the MTT key. */
  translate(): void {
    const a = this.acc;
    let m = 0;
    if (this.parent) {
      if (!this.parent.valid) {
        a.state = 'failed';
        return;
      }
      const k = this.parent.ksm[this.chunkOf(a.page)] ?? null;
      if (k === null) {
        a.state = 'faulted';
        return;
      }
      m = k;
    }
    if (!this.mkey[m]) {
      a.state = 'failed';
      return;
    }
    const f = this.mtt[m]?.[a.page] ?? null;
    if (f === null) a.state = 'faulted';
    else Object.assign(a, { state: 'inflight', frame: f, via: m });
  }

  issue(page: number): void {
    this.acc.page = page;
    this.translate();
  }

  /** An access in flight (through key m on page p, through key m, or at all). */
  inflight(m?: number, page?: number): boolean {
    const a = this.acc;
    return a.state === 'inflight' && (m === undefined || a.via === m) && (page === undefined || a.page === page);
  }

  /** The MTT key m is freed: its translations are gone (a reused object starts empty). */
  freeKey(m: number): void {
    this.mkey[m] = false;
    (this.mtt[m] as (number | null)[]).fill(null);
  }
}

/**
 * The simulated mlx5-like HCA of odp-mr: one memory key with its MTT (the device's translation of
 * each page), UMR work requests that the device applies to them, and one access slot whose accesses
 * are translated through the mkey. Why this module exists: every change to a device translation table
 * must be a UMR post the device applies (so the device table and the driver's shadow can be
 * compared), and a UMR on a revoked mkey must fail the way the hardware fails it: an error completion
 * that moves the UMR QP to the error state.
 */

/** A UMR work request on the mkey: write an MTT entry, zap one, or revoke the mkey. */
export type Umr =
  | { readonly op: 'mtt'; readonly page: number; readonly frame: number }
  | { readonly op: 'zap'; readonly page: number }
  | { readonly op: 'revoke' };

/** The state of the access slot. */
export type AccState = 'idle' | 'inflight' | 'faulted' | 'pending' | 'failed';

/** The device's one access slot. */
export interface HcaAccess {
  state: AccState;
  page: number;
  frame: number;
}

export class OdpHca {
  /** The mkey is valid (the revoke UMR clears it). */
  mkey = true;
  /** The MTT: page -> frame, or null. */
  readonly mtt: (number | null)[];
  /** An error CQE moved the UMR QP to the error state. */
  umrError: Umr | null = null;
  readonly acc: HcaAccess = { state: 'idle', page: 0, frame: 0 };

  constructor(pages: number) {
    this.mtt = Array.from({ length: pages }, () => null);
  }

  /** Posts a UMR and waits for its completion: applied, or an error completion on a revoked mkey. Returns whether it succeeded. */
  postUmr(w: Umr): boolean {
    if (!this.mkey) {
      this.umrError ??= w;
      return false;
    }
    if (w.op === 'mtt') this.mtt[w.page] = w.frame;
    else if (w.op === 'zap') this.mtt[w.page] = null;
    else this.mkey = false;
    return true;
  }

  /** Translates the slot's access of its page: fails on a revoked mkey, faults on a missing entry. */
  translate(): void {
    const a = this.acc;
    if (!this.mkey) a.state = 'failed';
    else {
      const f = this.mtt[a.page] ?? null;
      if (f === null) a.state = 'faulted';
      else {
        a.state = 'inflight';
        a.frame = f;
      }
    }
  }

  issue(page: number): void {
    this.acc.page = page;
    this.translate();
  }

  /** The access in flight on `page` (or any page) through the mkey. */
  inflight(page?: number): boolean {
    return this.acc.state === 'inflight' && (page === undefined || this.acc.page === page);
  }
}

/**
 * Scheduling points with several outcomes. Why this module exists: a flow's next step is usually
 * one labelled action, but the page walk's fault-in may take any free frame, and the model has one
 * rule instance per frame (`DriverWalkFaultIn(q, f)`); so the scheduler, not the flow, must pick the
 * frame. A choice point lists the labelled alternatives available now; the system offers each as an
 * action and hands the picked frame to the allocator before resuming the flow.
 */
import type { StepPoint } from './scheduler.js';

/** One outcome of a choice point: its label and, for an allocation, the frame to allocate. */
export interface Alternative {
  readonly label: string;
  readonly frame: number | null;
  /** Overrides the point's `internal` for this outcome (an allocation that fails is a model step, one that succeeds may not be). */
  readonly internal?: boolean;
}

/** A step point whose outcome is picked among `alternatives()` (evaluated when actions are listed). */
export interface ChoicePoint extends StepPoint {
  readonly alternatives: () => readonly Alternative[];
}

/** Whether a step point is a choice point (a step with alternatives the scheduler picks among). */
export function isChoicePoint(p: StepPoint): p is ChoicePoint {
  return 'alternatives' in p;
}

/**
 * The simulated hardware and kernel pieces a reference driver runs on, and the shape of the binding
 * a protocol package supplies to run its driver on them. Why this module exists: it is the public
 * subpath `mirrorcheck/harness`; a package's reference driver, its simulated system and its state
 * mapping import only from here, so the harness knows no driver and a new protocol adds files only in
 * its own package.
 */
export type { ContinuationBounds, DamageGuide, HarnessBinding, ReplayWords, SystemOptions } from './binding.js';
export type { Alternative, ChoicePoint } from './choicePoint.js';
export { isChoicePoint } from './choicePoint.js';
export type { HmmResult, Prot, Pte } from './cpuMm.js';
export { CpuMm } from './cpuMm.js';
export type { DmaCompletion, DmaOp, DmaState, FenceHandle, PageFaultEvent } from './hca.js';
export { Hca } from './hca.js';
export type { Unmapped } from './dmaMap.js';
export { DmaMap } from './dmaMap.js';
export type { ExclusiveStepNames, HmmEnv, HmmRange, HmmStepNames } from './hmmRangeFault.js';
export { EBUSY, HMM_STEP_NAMES, hmmRangeFault, hmmRangeStale, makeDeviceExclusive } from './hmmRangeFault.js';
export type { WorkTag, Workqueue } from './kernel.js';
export { Mutex } from './kernel.js';
export type { AccessOp, DevEntry, DeviceAccess, DeviceMonitor, UmrHandle, UmrWqe } from './mirrorDevice.js';
export { MirrorDevice } from './mirrorDevice.js';
export type { InvalidateFlow, RangeEvent, RangeInfo } from './mmuNotifier.js';
export { MmuNotifier } from './mmuNotifier.js';
export type { IntervalNotifierOps, NotifierRange, NotifyEvent, OpenRegion } from './notifierCore.js';
export { IntervalSubscription, NotifierCore } from './notifierCore.js';
export type { ReadBeginLabels } from './notifierApi.js';
export { hmmRangeValid, hmmRangeWaitUntilValid, mmuIntervalCheckRetry, mmuIntervalReadBegin, mmuIntervalReadRetry, mmuIntervalSetSeq } from './notifierApi.js';
export { PageAllocator } from './pageAllocator.js';
export type { Pte as ProcessPte } from './processMm.js';
export { ProcessMm } from './processMm.js';
export type { Action, Flow, Scheduler, StepPoint } from './scheduler.js';
export { choiceListScheduler, internalStep, isInternal, labelOf, labelScheduler, ruleName, step, stepLabel } from './scheduler.js';
export type { Damage, SimSystem, StepRecord } from './simSystem.js';
export type { LockCallOptions } from './sleepingMutex.js';
export { SleepingMutex } from './sleepingMutex.js';
export { Workload } from './workload.js';

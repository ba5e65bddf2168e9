// Types of sibyl-api.mjs, the embedding API of sibyl's web build (one import;
// a page, a Web Worker or Node 20+). The web_api_types test checks that every
// method the module has is declared here, and nothing more.

/** A problem in a file, placed at its line and column (1-based). */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
  /** The exact line the terminal front end prints: "FILE:LINE:COL: error: MESSAGE". */
  text: string;
}

export interface LoadResult {
  ok: boolean;
  value: unknown | null;
  diagnostics: Diagnostic[];
}

/** A YAML document: its name (for messages) and its text. */
export interface Doc {
  file?: string;
  text: string;
}

export interface PipelineInfo {
  name: string;
  description?: string;
  inputs: { name: string; type: string; default?: unknown; description?: string;
            minimum?: number; maximum?: number; enum?: unknown[] }[];
  /** kind: call, poll, aggregate, select, compute, assert, retry or suggest; on: "step.event" for event steps. */
  steps: { name: string; kind: string; needs: string[]; on?: string; description?: string }[];
}

export interface ValidateResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  /** Empty unless the pipelines file is valid. */
  pipelines: PipelineInfo[];
}

export interface RunOptions {
  workspace: Doc;
  pipelines: Doc;
  /** The pipeline to run. */
  pipeline: string;
  /** As --input / --input-file: input name -> value. */
  inputs?: Record<string, unknown>;
  /** As --seed (default: the workspace's simulation.seed, else 42). Up to 2^64-1 as bigint or digits. */
  seed?: number | bigint | string;
  /** embedded: every server answered in-module; servers: every server over fetch (URLs from the
   * workspace or `servers`). Default: as the workspace says. */
  mode?: 'embedded' | 'servers';
  /** Embedded services only. virtual (default): runs as fast as the CPU allows, yielding to the
   * event loop between slices; real: follows the clock, times timeScale. */
  clock?: 'virtual' | 'real';
  /** With clock 'real': simulated seconds per real second, 0.001 .. 1e9 (as --time-scale). */
  timeScale?: number;
  /** Where the virtual clock starts (as --start-time): epoch ms, a Date or ISO 8601. Default: now, whole seconds. */
  startTime?: number | Date | string;
  /** Server name -> MCP endpoint URL, overriding the workspace. */
  servers?: Record<string, string>;
  /** Extra HTTP headers for every server (e.g. Authorization). */
  headers?: Record<string, string>;
}

export interface Counts {
  queued: number; running: number; completed: number; failed: number; cancelled: number; total?: number;
}

export type LogLevel = 'INFO' | 'WARN' | 'ERROR' | 'SUCCESS' | 'DEBUG';
export interface LogEvent { type: 'log'; time_ms: number; level: LogLevel; message: string }
export interface StepEvent {
  type: 'step'; time_ms: number; name: string; index: number; total: number;
  status: 'waiting' | 'running' | 'succeeded' | 'failed' | 'skipped'; reason?: string;
}
export interface PollEvent {
  type: 'poll'; time_ms: number; step: string | null; poll: number; delay_ms: number; counts: Counts;
  /** How many jobs changed state since the previous poll. */
  changed: number; message: string;
}
/** One stream line (the .jsonl's line, parsed): for a run, a finished job's record (design §5);
 * for a watch, the job as the server reported it. */
export interface ChunkEvent { type: 'chunk'; time_ms: number; chunk: Record<string, unknown> }
export interface ProgressEvent extends Counts {
  type: 'progress'; time_ms: number; done: number; total: number;
  /** A run's ledger: settled spend, and money held for jobs not yet settled (absent for a watch). */
  spent_usd?: number; committed_usd?: number;
  /** The run's budget, when it has one. */
  budget_usd?: number; best?: Record<string, unknown> | null;
}
export interface DoneEvent {
  type: 'done'; time_ms: number; status: 'succeeded' | 'failed' | 'cancelled'; error?: string; exit_code: number;
}
export type RunEvent = LogEvent | StepEvent | PollEvent | ChunkEvent | ProgressEvent | DoneEvent;
export interface EventMap {
  log: LogEvent; step: StepEvent; poll: PollEvent; chunk: ChunkEvent; progress: ProgressEvent; done: DoneEvent;
  '*': RunEvent;
}

export interface RunResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  /** The CLI's exit status: 0 succeeded, 1 invalid input, 2 contradicting options, 3 failed or cancelled. */
  exit_code: number;
  error?: string;
  /** Every .json file the core wrote, parsed when first read (e.g. 'sweep_output.json'). */
  outputs: Record<string, any>;
  /** Every file the core wrote, as text, the stream file (.jsonl) included. */
  files: Record<string, string>;
  /** The chunks, in order. */
  stream: Record<string, unknown>[];
  /** Why the run could not start (empty when it did). */
  diagnostics: Diagnostic[];
  /** The seed the run used, as decimal digits (null when it could not start). */
  seed: string | null;
}

export interface Run {
  /** Events are delivered in order; listeners added before the next await see all of them.
   * A listener that throws is reported (a log event at level ERROR) and the run goes on.
   * Returns a function that removes the listener. */
  on<K extends keyof EventMap>(type: K, fn: (event: EventMap[K]) => void): () => void;
  /** As Ctrl-C: submitted jobs are cancelled, partial outputs written. */
  cancel(reason?: string): void;
  readonly done: Promise<RunResult>;
}

export interface WatchOptions {
  /** A PollableJobHandle ({ $type, server, handle_id, job_ids, status_tool, submit_tool }) or its JSON text. */
  handle: Record<string, unknown> | string;
  /** Names the handle's server (URL, headers, timeout) and the polling backoff. */
  workspace: Doc;
  servers?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface WatchResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  exit_code: number;
  error?: string;
  stream: Record<string, unknown>[];
  diagnostics: Diagnostic[];
}

export interface WatchEventMap {
  log: LogEvent; chunk: ChunkEvent; progress: ProgressEvent; poll: PollEvent; done: DoneEvent;
  '*': LogEvent | ChunkEvent | ProgressEvent | PollEvent | DoneEvent;
}

export interface Watch {
  on<K extends keyof WatchEventMap>(type: K, fn: (event: WatchEventMap[K]) => void): () => void;
  /** Stops watching; the jobs go on. */
  stop(): void;
  readonly done: Promise<WatchResult>;
}

export interface LoadOptions {
  /** Where sibyl.wasm is (as Emscripten's locateFile). */
  locateFile?: (path: string, prefix: string) => string;
  /** The module's bytes, when the embedder fetched them itself. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  [option: string]: unknown;
}

export class Sibyl {
  private constructor(module: unknown);
  static load(options?: LoadOptions): Promise<Sibyl>;
  /** The sibyl version the module was built from, e.g. "0.1.0". */
  version(): string;
  /** YAML only (the loader's rules, no schema). */
  loadYaml(file: string, text: string): LoadResult;
  /** As `sibyl workspace validate`. */
  validateWorkspace(file: string, text: string): LoadResult;
  /** As `sibyl workspace validate` + `sibyl pipeline validate`, with each pipeline's inputs and steps. */
  validate(options: { workspace: Doc; pipelines: Doc }): ValidateResult;
  /** As `sibyl pipeline run`. Throws TypeError on misuse; problems in the input end the run (done). */
  run(options: RunOptions): Run;
  /** Follows a job handle someone else started, over fetch. */
  watchHandle(options: WatchOptions): Watch;
}

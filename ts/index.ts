// The public API: `import { … } from 'torchmotion'`. The CLI is a thin layer over exactly these functions.
export { TorchmotionError } from './errors.js';
export { loadConfig, type ConfigSource } from './config.js';
export { tensor, dtypeOf, type HostTensor, type TensorOut, type Dtype, type TensorData } from './tensor.js';
export { info, setThreads, roundTrip, matmul, measureThroughput, type RuntimeInfo, type CallOptions } from './runtime.js';
export { trainRegressor, regressorConfig, type RegressorConfig, type RegressorResult } from './regressor.js';
export { runPipeline, pipelineConfig, type PipelineConfig, type PipelineReport } from './pipeline.js';
export { Rng } from './rng.js';
export { readNpy, readNpyRows, readNpyHeader, writeNpy, encodeNpy, NpyFile, type NpyArray, type NpyDtype } from './data/npy.js';
export { readNpz, writeNpz } from './data/npz.js';
export { forward272, recoverJoints, recoverSmpl85, mirror272, axisAnglesFromSmpl, DIM, GROUPS } from './motion/repr272.js';
export { normalize, denormalize, MotionStatistics, type MeanStd } from './motion/normalize.js';
export { JOINT_NAMES, PARENTS, CHAINS, MIRROR_PAIRS } from './motion/skeleton.js';
export { buildIndex, formatReport, STAGE_LIMITS, type DatasetIndex, type IndexReport, type IndexOptions } from './data/dataset.js';
export { WindowLoader, wholeClips, type WindowBatch, type LoaderState } from './data/loader.js';
export { datasetStats, formatStats, type SubsetStats } from './data/stats.js';
export { prepareDataset, type PrepareReport } from './data/prepare.js';
export { parseCaptions, type Caption } from './data/texts.js';

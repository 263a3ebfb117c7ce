// The public API: `import { … } from 'torchmotion'`. The CLI is a thin layer over exactly these functions.
export { TorchmotionError } from './errors.js';
export { loadConfig, type ConfigSource } from './config.js';
export { tensor, dtypeOf, type HostTensor, type TensorOut, type Dtype, type TensorData } from './tensor.js';
export { info, setThreads, roundTrip, matmul, measureThroughput, type RuntimeInfo, type CallOptions } from './runtime.js';
export { trainRegressor, regressorConfig, type RegressorConfig, type RegressorResult } from './regressor.js';
export { runPipeline, pipelineConfig, type PipelineConfig, type PipelineReport } from './pipeline.js';
export { Rng } from './rng.js';

// The public API: `import { … } from 'torchmotion'`. The CLI is a thin layer over exactly these functions.
export { TorchmotionError } from './errors.js';
export { loadConfig, type ConfigSource } from './config.js';
export { tensor, dtypeOf, type HostTensor, type TensorOut, type Dtype, type TensorData } from './tensor.js';
export {
  info,
  setThreads,
  roundTrip,
  matmul,
  measureThroughput,
  type RuntimeInfo,
  type CallOptions,
} from './runtime.js';
export { runPipeline, pipelineConfig, pelvisTravel, type PipelineConfig, type PipelineReport } from './pipeline.js';
export { Rng } from './rng.js';
export {
  readNpy,
  readNpyRows,
  readNpyHeader,
  writeNpy,
  encodeNpy,
  NpyFile,
  type NpyArray,
  type NpyDtype,
} from './data/npy.js';
export { readNpz, writeNpz } from './data/npz.js';
export {
  forward272,
  recoverJoints,
  recoverSmpl85,
  mirror272,
  axisAnglesFromSmpl,
  DIM,
  GROUPS,
} from './motion/repr272.js';
export { normalize, denormalize, MotionStatistics, type MeanStd } from './motion/normalize.js';
export { JOINT_NAMES, PARENTS, CHAINS, MIRROR_PAIRS } from './motion/skeleton.js';
export {
  buildIndex,
  formatReport,
  STAGE_LIMITS,
  type DatasetIndex,
  type IndexReport,
  type IndexOptions,
} from './data/dataset.js';
export { WindowLoader, wholeClips, type WindowBatch, type LoaderState } from './data/loader.js';
export { datasetStats, formatStats, type SubsetStats } from './data/stats.js';
export { prepareDataset, type PrepareReport } from './data/prepare.js';
export { computeMeanStd, type MeanStdReport } from './data/mean-std.js';
export { parseCaptions, mirrorCaption, type Caption } from './data/texts.js';
export { isMirrored, mirrorName, mirrorSource, subsetOf } from './data/layout.js';
export {
  MOTION_TYPES,
  LEXICON,
  FEATURE_RULES,
  typeCaption,
  typeClip,
  type MotionType,
  type ClipTyping,
} from './data/motion-types.js';
export { clipFeatures, type ClipFeatures } from './data/clip-features.js';
export { buildDatasetReport, reportHtml, explainClip } from './data/report.js';
export { trainTokenizer, type TrainTokenizerOptions } from './tokenizer/train.js';
export { evaluateTokenizer, type TokenizerEval } from './tokenizer/evaluate.js';
export { encodeDataset, EncodedCodes } from './tokenizer/encode.js';
export { compareQuantizers } from './tokenizer/compare.js';
export { tokenizerConfig, FSQ_LEVELS, MODEL_PRESETS } from './tokenizer/config.js';
export { TokenizerModel, loadTokenizer } from './tokenizer/model.js';
export { trainT2M } from './t2m/train.js';
export { generateMotions, type Generated } from './t2m/generate.js';
export { t2mConfig, T2M_PRESETS, countParameters, generationSettings } from './t2m/config.js';
export { T2MModel, loadT2M } from './t2m/model.js';
export { buildDemoDataset } from './data/demo.js';
export { bvhTo272 } from './convert/from-bvh.js';
export { smplTo272, readSmplClip } from './convert/from-smpl.js';
export { jointsTo272 } from './convert/to272.js';
export { motion272ToBvh } from './convert/to-bvh.js';
export { buildPfnnDatabase } from './pfnn/database-build.js';
export { pfnnDatabaseSettings, DEFAULT_PFNN } from './pfnn/database-layout.js';
export { pfnnConfig } from './pfnn/config.js';
export { trainPfnn } from './pfnn/train.js';
export { PfnnModel, loadPfnn } from './pfnn/model.js';
export { writePfnnRuntime, readPfnnRuntime } from './pfnn/runtime-files.js';
export { pfnnQuality } from './pfnn/quality.js';
export { importCheckpoint, importSettings } from './pytorch/import.js';
export { exportRun } from './pytorch/export.js';
export { launch, launchSettings } from './distributed/launch.js';
export {
  embeddings,
  rPrecision,
  mmDist,
  fid,
  diversity,
  multimodality,
  meanInterval,
  sampleWithoutReplacement,
  type Embeddings,
} from './evaluator/metrics.js';
export { retrievalScores, type RetrievalScores, type Recall } from './evaluator/retrieval.js';
export { evaluatorConfig, EVALUATOR_PRESETS } from './evaluator/config.js';
export { EvaluatorModel, loadEvaluator } from './evaluator/model.js';
export { trainEvaluator } from './evaluator/train.js';
export { testEvaluator } from './evaluator/evaluator-test.js';
export { evaluateT2M, formatEvalTable, type T2MEvalRequest, type T2MEvalResult } from './t2m/eval.js';
export { compareByGeneration } from './tokenizer/compare-generation.js';
export { buildEmbeddingCache, type EmbedRequest } from './t2m/embed.js';
export { EmbeddingCache } from './t2m/embedding-cache.js';
export { TextScriptEncoder } from './t2m/text-script.js';
export { renderMotions, type RenderOptions, type RenderResult } from './render/render.js';
export { plotRuns, type PlotResult } from './plot/plot.js';
export { lineChart } from './plot/chart.js';
export { viewerHtml } from './view/html.js';
export { serveViewer } from './view/serve.js';
export { loadViewMotions, type ViewMotion } from './view/motions.js';

// The names before the one-name-per-model rename (0.1): the same functions.
/** @deprecated use trainT2M */
export { trainT2M as trainTextToMotion } from './t2m/train.js';
/** @deprecated use loadT2M */
export { loadT2M as loadTextToMotion } from './t2m/model.js';
/** @deprecated use evaluateT2M */
export { evaluateT2M as evaluateTextToMotion } from './t2m/eval.js';
/** @deprecated use buildPfnnDatabase */
export { buildPfnnDatabase as exportPfnn } from './pfnn/database-build.js';

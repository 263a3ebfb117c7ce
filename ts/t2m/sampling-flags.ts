// The sampling flags `t2m generate` and `t2m eval` share: each a generationSettings key, its default the schema's.
import { Option } from 'commander';

import { definedOnly, nonNegativeInt, nonNegativeNumber, probability, withDefault } from '../cli-options.js';
import { generationSettings, type GenerationSettings } from './config.js';

export interface SamplingFlags {
  temperature?: number;
  topK?: number;
  topP?: number;
  cfg?: number;
}

// `of` says what they sample, e.g. "generator row: " in `t2m eval`.
export const samplingOptions = (of = '') => [
  new Option('--temperature <t>', withDefault(`${of}0 = greedy`, generationSettings, 'temperature')).argParser(
    nonNegativeNumber
  ),
  new Option(
    '--top-k <k>',
    withDefault(`${of}sample among the k most likely codes (0 = off)`, generationSettings, 'topK')
  ).argParser(nonNegativeInt),
  new Option('--top-p <p>', withDefault(`${of}nucleus sampling (1 = off)`, generationSettings, 'topP')).argParser(
    probability
  ),
  new Option(
    '--cfg <scale>',
    withDefault(`${of}classifier-free guidance scale (0 = off)`, generationSettings, 'cfgScale')
  ).argParser(nonNegativeNumber),
];

// The sampling settings that were given, by their generationSettings names.
export const givenSampling = (o: SamplingFlags): Partial<GenerationSettings> =>
  definedOnly({ temperature: o.temperature, topK: o.topK, topP: o.topP, cfgScale: o.cfg });

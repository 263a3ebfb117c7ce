// The motion-type taxonomy: caption lexicon (inflections, phrases, comparisons, transitions, ties) and the feature
// rules for clips without captions, each with the explanation a user sees.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { ClipFeatures } from '../ts/data/clip-features.js';
import { explainTyping, typeCaption, typeClip } from '../ts/data/motion-types.js';

const still: ClipFeatures = {
  frames: 90,
  rootSpeed: 0.05,
  turningDegPerSec: 2,
  pelvisHeight: 0.88,
  pelvisHeightStd: 0.01,
  handSpeed: 0.05,
  footSpeed: 0.05,
};

test('inflected forms and phrases match their stems', () => {
  assert.is(typeCaption('a person is jogging in place').type, 'locomotion');
  assert.is(typeCaption('someone stepped back').type, 'locomotion');
  assert.is(typeCaption('the man is dancing salsa').type, 'dance');
  assert.is(typeCaption('a woman does ten push ups').type, 'fitness');
  assert.is(typeCaption('a person does jumping jacks').type, 'fitness');
  assert.is(typeCaption('he throws a punch and then a kick').type, 'martial arts');
  assert.is(typeCaption('the figure stares blankly').type, 'other');
});

test('a comparison says how, not what: it does not vote, except for animals', () => {
  const t = typeCaption('someone walks straight ahead like a stage performer');
  assert.is(t.type, 'locomotion');
  assert.equal(
    t.matches.map((m) => [m.word, m.type, m.compared]),
    [
      ['walks', 'locomotion', false],
      ['stage', 'performance', true],
      ['performer', 'performance', true],
    ]
  );
  assert.is(typeCaption('a person hops around like a frog').type, 'locomotion'); // tie 1–1: taxonomy order
  assert.is(typeCaption('a person moves like a monkey').type, 'non-human');
});

test('two kinds of motion in sequence are a transition; one kind twice is not', () => {
  assert.is(typeCaption('a person walks forward then sits down').type, 'transitions');
  assert.is(typeCaption('a person walks forward and then walks back').type, 'locomotion');
  assert.is(typeCaption('a person stands and waves').type, 'gestures'); // tie: gestures come before daily activities
});

test('a clip is the majority of its captions; captions voting other do not count', () => {
  const t = typeClip(['a person waves', 'someone waves goodbye', 'a man walks', 'the figure stares'], still);
  assert.is(t.type, 'gestures');
  assert.equal(t.votes, { gestures: 2, locomotion: 1 });
  assert.is(typeClip(['the figure stares'], still).type, 'other');
});

test('without captions the first feature rule that holds decides, and the explanation names it', () => {
  const cases: Array<[Partial<ClipFeatures>, string]> = [
    [{ rootSpeed: 1.2, handSpeed: 0.9, footSpeed: 1.2 }, 'locomotion'],
    [{ handSpeed: 1.4, footSpeed: 0.9 }, 'dance'],
    [{ handSpeed: 0.6, footSpeed: 0.05 }, 'gestures'],
    [{ pelvisHeightStd: 0.12 }, 'fitness'],
    [{}, 'daily activities'],
  ];
  for (const [f, type] of cases) assert.is(typeClip([], { ...still, ...f }).type, type, JSON.stringify(f));
  const t = typeClip([], { ...still, handSpeed: 1.4, footSpeed: 0.9 });
  assert.is(
    explainTyping('PhantomDanceDatav1.1/0001', t, { ...still, handSpeed: 1.4, footSpeed: 0.9 }),
    'PhantomDanceDatav1.1/0001: dance (from its motion: no captions)\n' +
      '  motion: root 0.05 m/s, turning 2.0 °/s, pelvis 0.88 m (std 0.010), hands 1.40 m/s, feet 0.90 m/s\n' +
      '  rule: hands ≥ 0.5 m/s and feet ≥ 0.4 m/s in the body frame, root below 0.5 m/s'
  );
});

test.run();

// What kind of motion a clip is, from a fixed taxonomy (the content categories of MotionMillion's dataset card —
// fitness, martial arts, performance, dance, non-human, sports — plus the everyday kinds HumanML3D-style captions
// describe). A clip with captions is typed by a lexicon over its captions; one without (PhantomDance) by rules
// over its motion features. Every assignment can be explained: the words that matched, or the rule that fired.
import type { ClipFeatures } from './clip-features.js';

export const MOTION_TYPES = [
  'locomotion',
  'dance',
  'sports',
  'martial arts',
  'fitness',
  'performance',
  'gestures',
  'daily activities',
  'non-human',
  'transitions',
  'other',
] as const;
export type MotionType = (typeof MOTION_TYPES)[number];

// Word stems (inflected: walk → walks, walked, walking; dance → dancing; jog → jogging) and phrases (the first word
// inflected, the rest as written or plural: "push ups"). Order of the taxonomy breaks ties.
export const LEXICON: Record<Exclude<MotionType, 'transitions' | 'other'>, string[]> = {
  locomotion: [
    'walk',
    'run',
    'ran',
    'jog',
    'sprint',
    'dash',
    'step',
    'stroll',
    'march',
    'stride',
    'strut',
    'stomp',
    'pace',
    'wander',
    'sneak',
    'tiptoe',
    'limp',
    'crawl',
    'climb',
    'hike',
    'skip',
    'hop',
    'gallop',
    'shuffle',
    'trot',
    'backward',
    'backwards',
    'sideways',
    'circle',
    'zigzag',
    'go forward',
    'move forward',
    'stairs',
    'jump',
    'leap',
    'turn around',
  ],
  dance: [
    'dance',
    'danced',
    'dancer',
    'waltz',
    'ballet',
    'salsa',
    'tango',
    'hip hop',
    'breakdance',
    'choreography',
    'twirl',
    'pirouette',
    'moonwalk',
    'cha',
    'samba',
    'disco',
    'shimmy',
    'groove',
    'sway',
  ],
  sports: [
    'basketball',
    'football',
    'soccer',
    'tennis',
    'golf',
    'baseball',
    'volleyball',
    'badminton',
    'bowling',
    'dribble',
    'shoot',
    'throw',
    'threw',
    'catch',
    'caught',
    'pitch',
    'bat',
    'racket',
    'ski',
    'skate',
    'swim',
    'swam',
    'surf',
    'ball',
    'serve',
    'goalkeeper',
    'hurdle',
    'javelin',
    'archery',
  ],
  'martial arts': [
    'punch',
    'kick',
    'box',
    'boxing',
    'boxer',
    'karate',
    'kung fu',
    'taekwondo',
    'judo',
    'fight',
    'fought',
    'strike',
    'struck',
    'jab',
    'uppercut',
    'hook',
    'spar',
    'martial',
    'slash',
    'sword',
    'fence',
    'fencing',
    'block',
    'wrestle',
    'stab',
    'dodge',
    'combat',
    'tai chi',
  ],
  fitness: [
    'squat',
    'lunge',
    'push up',
    'pushup',
    'push-up',
    'sit up',
    'situp',
    'sit-up',
    'plank',
    'stretch',
    'yoga',
    'jumping jack',
    'burpee',
    'exercise',
    'workout',
    'work out',
    'dumbbell',
    'barbell',
    'weight',
    'lift',
    'warm up',
    'crunch',
    'aerobic',
    'aerobics',
    'pilates',
    'deadlift',
    'curl',
    'fitness',
    'jump rope',
    'train',
  ],
  performance: [
    'perform',
    'performer',
    'mime',
    'pretend',
    'imitate',
    'act',
    'acting',
    'theatrical',
    'theatrically',
    'stage',
    'guitar',
    'piano',
    'drum',
    'violin',
    'instrument',
    'sing',
    'conduct',
    'juggle',
    'magic',
    'show off',
    'pose',
    'model',
  ],
  gestures: [
    'wave',
    'bow',
    'point',
    'nod',
    'beckon',
    'clap',
    'salute',
    'gesture',
    'shrug',
    'greet',
    'thumbs',
    'applaud',
    'cheer',
    'hug',
    'handshake',
    'shake hand',
    'call',
    'respond',
    'answer',
    'react',
    'show the way',
    'show someone',
    'guide',
    'signal',
    'farewell',
    'goodbye',
    'bye',
  ],
  'daily activities': [
    'sit',
    'sat',
    'stand',
    'stood',
    'lie',
    'lay',
    'lying',
    'kneel',
    'pick up',
    'put down',
    'drink',
    'eat',
    'open',
    'close',
    'carry',
    'wash',
    'clean',
    'cook',
    'phone',
    'type',
    'read',
    'write',
    'brush',
    'sweep',
    'push',
    'pull',
    'lean',
    'look around',
    'get up',
    'wipe',
    'pour',
    'reach',
    'grab',
    'hold',
    'idle',
    'wait',
    'rest',
  ],
  'non-human': [
    'animal',
    'monkey',
    'ape',
    'gorilla',
    'dog',
    'cat',
    'chicken',
    'bird',
    'penguin',
    'frog',
    'bear',
    'elephant',
    'dinosaur',
    'horse',
    'snake',
    'crab',
    'zombie',
    'robot',
    'alien',
    'monster',
  ],
};

const SEQUENCE_WORDS = new Set([
  'then',
  'after',
  'afterwards',
  'before',
  'followed',
  'finally',
  'next',
  'transitions',
  'transition',
]);

function inflections(stem: string): string[] {
  const forms = [stem, `${stem}s`, `${stem}es`, `${stem}ed`, `${stem}ing`, `${stem}er`, `${stem}ers`];
  if (stem.endsWith('e')) forms.push(`${stem}d`, `${stem.slice(0, -1)}ing`, `${stem}r`, `${stem}rs`);
  if (stem.endsWith('y')) forms.push(`${stem.slice(0, -1)}ies`, `${stem.slice(0, -1)}ied`);
  if (/[^aeiou][aeiou][bdgmnprt]$/.test(stem))
    forms.push(`${stem}${stem.at(-1)}ing`, `${stem}${stem.at(-1)}ed`, `${stem}${stem.at(-1)}er`);
  return forms;
}

interface Entry {
  type: MotionType;
  words: string[];
  first: Set<string>;
  entry: string;
}

const ENTRIES: Entry[] = Object.entries(LEXICON).flatMap(([type, list]) =>
  list.map((entry) => {
    const words = entry.split(/[\s-]+/);
    return { type: type as MotionType, words, first: new Set(inflections(words[0])), entry };
  })
);

export function captionWords(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+/g) ?? [];
}

export interface CaptionTyping {
  caption: string;
  // compared: inside a comparison ("walks like a stage performer"), which says how, not what, and so does not vote
  // (except non-human: imitating an animal is that category).
  matches: Array<{ type: MotionType; entry: string; word: string; at: number; length: number; compared: boolean }>;
  type: MotionType;
}

// One caption's matches and its vote: the type with the most matched entries; transitions when two types tie for
// most and a sequencing word joins them ("walks forward then sits down"); other when nothing matched.
export function typeCaption(caption: string): CaptionTyping {
  const w = captionWords(caption);
  const matches: CaptionTyping['matches'] = [];
  for (let i = 0; i < w.length; i++) {
    for (const e of ENTRIES) {
      if (!e.first.has(w[i]) || !e.words.slice(1).every((x, k) => w[i + 1 + k] === x || w[i + 1 + k] === `${x}s`))
        continue;
      if (matches.some((m) => m.at === i && m.type === e.type)) continue; // "performer" is perform's form and an entry
      const compared =
        w.slice(Math.max(0, i - 3), i).includes('like') ||
        w
          .slice(Math.max(0, i - 3), i)
          .join(' ')
          .includes('as if');
      matches.push({
        type: e.type,
        entry: e.entry,
        word: w.slice(i, i + e.words.length).join(' '),
        at: i,
        length: e.words.length,
        compared,
      });
    }
  }
  // The longest phrase wins: "jumping jacks" is fitness, not also the locomotion of "jumping".
  const inside = (m: (typeof matches)[number], o: (typeof matches)[number]) =>
    o !== m && o.length > m.length && m.at >= o.at && m.at + m.length <= o.at + o.length;
  const kept = matches.filter((m) => !matches.some((o) => inside(m, o)));
  matches.splice(0, matches.length, ...kept);
  const counts = new Map<MotionType, number>();
  for (const m of matches) if (!m.compared || m.type === 'non-human') counts.set(m.type, (counts.get(m.type) ?? 0) + 1);
  const [first, second] = [...counts.values()].sort((x, y) => y - x);
  if (second !== undefined && first === second && w.some((x) => SEQUENCE_WORDS.has(x)))
    return { caption, matches, type: 'transitions' };
  return { caption, matches, type: argmax(counts) };
}

function argmax(counts: Map<MotionType, number>): MotionType {
  let best: MotionType = 'other';
  let n = 0;
  for (const t of MOTION_TYPES) {
    const c = counts.get(t) ?? 0;
    if (c > n) {
      best = t;
      n = c;
    }
  }
  return best;
}

// Thresholds on ClipFeatures, set on the bundled Bandai Namco clips (docs/datasets.md shows the medians per content):
// travelling is locomotion; hands and feet both busy in place is dance (features cannot tell it from martial arts;
// the one caption-less subset, PhantomDance, is dance); busy hands with still feet are gestures; a pelvis that goes
// up and down is fitness (squats, jumps); the rest is daily activity (standing, small movements).
export const FEATURE_RULES: Array<{ type: MotionType; rule: string; test: (f: ClipFeatures) => boolean }> = [
  { type: 'locomotion', rule: 'root speed ≥ 0.5 m/s', test: (f) => f.rootSpeed >= 0.5 },
  {
    type: 'dance',
    rule: 'hands ≥ 0.5 m/s and feet ≥ 0.4 m/s in the body frame, root below 0.5 m/s',
    test: (f) => f.handSpeed >= 0.5 && f.footSpeed >= 0.4,
  },
  {
    type: 'gestures',
    rule: 'hands ≥ 0.2 m/s, feet below 0.4 m/s',
    test: (f) => f.handSpeed >= 0.2 && f.footSpeed < 0.4,
  },
  { type: 'fitness', rule: 'pelvis height varies by ≥ 0.08 m (std)', test: (f) => f.pelvisHeightStd >= 0.08 },
  { type: 'daily activities', rule: 'none of the above (slow, mostly in place)', test: () => true },
];

export interface ClipTyping {
  type: MotionType;
  source: 'captions' | 'motion';
  captions: CaptionTyping[];
  votes: Partial<Record<MotionType, number>>;
  rule?: string;
}

// A clip's type: the majority of its captions' votes (ties by taxonomy order; captions that vote "other" count only
// when nothing else was voted), or the first feature rule that holds when it has no captions.
export function typeClip(captions: string[], features: ClipFeatures): ClipTyping {
  if (captions.length === 0) {
    const r = FEATURE_RULES.find((x) => x.test(features))!;
    return { type: r.type, source: 'motion', captions: [], votes: {}, rule: r.rule };
  }
  const typed = captions.map(typeCaption);
  const votes = new Map<MotionType, number>();
  for (const c of typed) if (c.type !== 'other') votes.set(c.type, (votes.get(c.type) ?? 0) + 1);
  return { type: argmax(votes), source: 'captions', captions: typed, votes: Object.fromEntries(votes) };
}

export function explainTyping(name: string, t: ClipTyping, f: ClipFeatures): string {
  const lines = [
    `${name}: ${t.type} (from ` +
      `${t.source === 'captions' ? `${t.captions.length} caption(s)` : 'its motion: no captions'})`,
  ];
  for (const c of t.captions) {
    const m =
      c.matches
        .map(
          (x) => `"${x.word}" → ${x.type}${x.compared && x.type !== 'non-human' ? ' (in a comparison: no vote)' : ''}`
        )
        .join(', ') || 'no lexicon word';
    lines.push(`  "${c.caption}": ${m}; votes ${c.type}`);
  }
  if (t.source === 'captions') {
    lines.push(
      `  votes: ${
        Object.entries(t.votes)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none (every caption voted other)'
      }`
    );
  }
  lines.push(
    `  motion: root ${f.rootSpeed.toFixed(2)} m/s, turning ${f.turningDegPerSec.toFixed(1)} °/s, ` +
      `pelvis ${f.pelvisHeight.toFixed(2)} m ` +
      `(std ${f.pelvisHeightStd.toFixed(3)}), hands ${f.handSpeed.toFixed(2)} m/s, feet ${f.footSpeed.toFixed(2)} m/s`
  );
  if (t.rule) lines.push(`  rule: ${t.rule}`);
  return lines.join('\n');
}

// A progress bar on a terminal (cli-progress), plain log lines elsewhere (CI, files, tests).
import cliProgress from 'cli-progress';

export interface Progress {
  update(step: number, fields: Record<string, string>): void;
  stop(): void;
}

export function createProgress(
  total: number,
  start: number,
  unit: string,
  log?: (line: string) => void,
  every = 10
): Progress {
  if (process.stderr.isTTY && !log) {
    const bar = new cliProgress.SingleBar(
      {
        format: `{bar} {value}/{total} {unit} | {fields} | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic
    );
    bar.start(total, start, { unit, fields: '' });
    return {
      update: (step, f) =>
        bar.update(step, {
          unit,
          fields: Object.entries(f)
            .map(([k, v]) => `${k} ${v}`)
            .join(' | '),
        }),
      stop: () => bar.stop(),
    };
  }
  const write = log ?? ((l: string) => console.error(l));
  const t0 = performance.now();
  return {
    update: (step, f) => {
      if (step % every !== 0 && step !== total) return;
      const rate = (step - start) / ((performance.now() - t0) / 1000);
      const eta = rate > 0 ? (total - step) / rate : 0;
      write(
        `${unit} ${step}/${total} ${Object.entries(f)
          .map(([k, v]) => `${k} ${v}`)
          .join(' ')} eta ${eta.toFixed(0)}s`
      );
    },
    stop: () => {},
  };
}

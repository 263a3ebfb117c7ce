// `torchmotion pfnn play`: one self-contained HTML page with a runtime export's control points and normalisation
// inlined (base64 float32) and the controller bundle (ts/pfnn/page/controller-page.js), written to a file or served.
import { basename, resolve } from 'node:path';

import { pageHtml } from '../view/html.js';
import { readPfnnRuntime } from './runtime-files.js';

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

const STYLE = `
  html, body { margin: 0; height: 100%; font: 14px system-ui, sans-serif; color: #222; background: #fff; }
  body { display: flex; flex-direction: column; }
  #view { position: relative; flex: 1; min-height: 0; overflow: hidden; }
  #view canvas { display: block; }
  #hud { padding: 8px 12px; border-top: 1px solid #ddd; background: #f7f7f7; font-variant-numeric: tabular-nums; }
`;

// What the page reads from #pfnn-data: the export's control points and normalisation, every file checked on the way.
export function pfnnPageData(exportDir: string) {
  const rt = readPfnnRuntime(exportDir);
  return {
    title: `torchmotion pfnn play: ${basename(resolve(exportDir))}`,
    phases: rt.info.phases,
    layers: rt.info.layers.map((l, k) => ({
      shape: l.shape,
      W: b64(rt.controlPoints[k].W),
      b: b64(rt.controlPoints[k].b),
    })),
    Xmean: b64(rt.stats.Xmean),
    Xstd: b64(rt.stats.Xstd),
    Ymean: b64(rt.stats.Ymean),
    Ystd: b64(rt.stats.Ystd),
  };
}

export function pfnnPageHtml(exportDir: string): string {
  const data = pfnnPageData(exportDir);
  const body = '<div id="view"></div>\n<div id="hud">loading the network…</div>';
  return pageHtml({ title: data.title, style: STYLE, body, dataId: 'pfnn-data', data, bundle: 'pfnn' });
}

"""Independent NumPy/SciPy reference for torchmotion's text-to-motion metrics (ts/evaluator/metrics.ts), written the way the
field's evaluation code computes them: a full distance matrix per batch and an argsort for R-precision, numpy.cov and
scipy.linalg.sqrtm of the covariance product for FID.

  golden <dir>   reads <dir>/input.npz (text, motion, real, generated, generations, div_first, div_second, mm_first,
                 mm_second, batch, per_caption) and writes <dir>/reference.npz; recall@k and median rank (the evaluator's
                 retrieval) both directions, over all pairs and in batches
"""
import sys

import numpy as np
from scipy import linalg


def r_precision(text, motion, batch, top_k=3):
    n = (len(text) // batch) * batch
    hits = np.zeros(top_k)
    for b in range(0, n, batch):
        t, m = text[b:b + batch], motion[b:b + batch]
        dist = np.sqrt(((t[:, None, :] - m[None, :, :]) ** 2).sum(-1))
        order = np.argsort(dist, axis=1)
        rank = np.argmax(order == np.arange(batch)[:, None], axis=1)   # position of each caption's own motion
        for k in range(top_k):
            hits[k] += (rank <= k).sum()
    return hits / n


def recall(query, candidates, batch):
    """R@1/2/3/5/10 and median rank of each query's own candidate, in consecutive batches (argsort of distances)."""
    n = (len(query) // batch) * batch
    ranks = []
    for b in range(0, n, batch):
        q, c = query[b:b + batch], candidates[b:b + batch]
        dist = np.sqrt(((q[:, None, :] - c[None, :, :]) ** 2).sum(-1))
        order = np.argsort(dist, axis=1)
        ranks.extend(np.argmax(order == np.arange(batch)[:, None], axis=1) + 1)
    ranks = np.array(ranks)
    return [(ranks <= k).mean() for k in (1, 2, 3, 5, 10)] + [np.median(ranks)]


def fid(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1.dot(s2))
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def main():
    if len(sys.argv) != 3 or sys.argv[1] != 'golden':
        sys.exit(__doc__)
    d = np.load(f'{sys.argv[2]}/input.npz')
    text, motion = d['text'], d['motion']
    gens, per = d['generations'], int(d['per_caption'])
    mm = gens.reshape(-1, per, gens.shape[1])
    out = {
        'r_precision': r_precision(text, motion, int(d['batch'])),
        'mm_dist': np.linalg.norm(text - motion, axis=1).mean(),
        'fid': fid(d['real'], d['generated']),
        'fid_same': fid(d['real'], d['real']),
        'diversity': np.linalg.norm(motion[d['div_first']] - motion[d['div_second']], axis=1).mean(),
        'multimodality': np.linalg.norm(mm[:, d['mm_first']] - mm[:, d['mm_second']], axis=2).mean(),
        'retrieval_all': recall(text, motion, len(text)) + recall(motion, text, len(text)),
        'retrieval_batch': recall(text, motion, int(d['batch'])) + recall(motion, text, int(d['batch'])),
    }
    np.savez(f'{sys.argv[2]}/reference.npz', **{k: np.asarray(v, dtype=np.float64) for k, v in out.items()})


if __name__ == '__main__':
    main()

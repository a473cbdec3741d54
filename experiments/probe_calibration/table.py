"""Writes table.md from the trial runs' results.json and config.yaml: python table.py > table.md"""
import json, pathlib
R = pathlib.Path(__file__).parent / "runs"
print("| trial | model | mw | key settings | min | steps | wall s | BLEU 0-9 | 10-19 | 20-29 | 30-39 | verb 0-4 | 5-9 | 10-19 | 20-29 | 30-39 | contrastive attractor 0-4 | random 0-4 |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for d in sorted(R.iterdir()):
    if not d.is_dir() or not (d/'results.json').exists(): continue
    r = json.loads((d/'results.json').read_text()); s = r['splits']['test']
    cfg = (d/'config.yaml').read_text()
    import yaml; c = yaml.safe_load(cfg)
    t = r.get('training', {})
    b = {x['bucket'] if 'bucket' in x else None: x for x in s['by_length']}
    bl = [f"{x['bleu']:.1f}" if x.get('bleu') is not None else '-' for x in s['by_length'][:4]]
    va = {x['bucket']: x for x in s['verb_accuracy']['by_distance']}
    vv = [f"{x['accuracy']:.2f}" if x['accuracy'] is not None else '-' for x in s['verb_accuracy']['by_distance'][:5]]
    wallf = d / 'wall.txt'; wall = wallf.read_text().split()[2].split('=')[1] if wallf.exists() else 'eval'
    tr = c['train']
    key = f"bt{tr['batch_tokens']} lr{tr['lr']} {tr['schedule']}"
    weights = c['data']['corpus'].get('length_weights')
    key += f" lw{weights}" if weights else ""
    kinds = s.get('contrastive', {}).get('kinds', {})
    contrast = [f"{kinds[k]['by_distance'][0]['accuracy']:.3f}" if k in kinds else "-" for k in ("attractor", "random")]
    print(f"| {d.name} | {c['model']['name']} | {c['data']['corpus']['max_words']} | {key} | {tr['max_minutes'] or tr.get('max_steps')} | {t.get('steps','')} | {wall} | " + " | ".join(bl) + " | " + " | ".join(vv) + " | " + " | ".join(contrast) + " |")

/** The dashboard page: three views (live, experiments, registry) behind tabs. */
import './style.css';
import { byId } from './dom.js';
import { LiveView } from './live-view.js';
import { showExperiments } from './experiments-view.js';
import { showRegistry } from './registry-view.js';
import { followQueue } from './queue-panel.js';

const live = new LiveView();
(window as unknown as { pricelab: unknown }).pricelab = live.probe;

const views = { live: 'live-view', experiments: 'experiments-view', registry: 'registry-view' } as const;
const loaders: Partial<Record<keyof typeof views, () => Promise<void>>> = { experiments: () => Promise.all([followQueue(), showExperiments()]).then(() => undefined), registry: showRegistry };

for (const name of Object.keys(views) as (keyof typeof views)[]) {
  byId(`tab-${name}`).addEventListener('click', () => {
    for (const [other, otherId] of Object.entries(views)) {
      byId(otherId).hidden = other !== name;
      byId(`tab-${other}`).setAttribute('aria-selected', String(other === name));
    }
    void loaders[name]?.();
  });
}

// Live lists without a sync button: poll the cheap /api/v1/changes cursor every 1.5 s; when
// an area changed (trust, registry, user, …), every view that shows that area reloads.
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState, useCallback } from 'preact/hooks';
import { get } from './api.js';

export const POLL_MS = 1500;
export const LiveContext = createContext({ versions: {}, tick: 0 });

// The provider's state: a version number per area, bumped when that area changed.
export function useLivePoller(enabled) {
  const [versions, setVersions] = useState({});
  const cursor = useRef(null);
  useEffect(() => {
    if (!enabled) return undefined;
    let stopped = false;
    let timer;
    const poll = async () => {
      // A tab in the background asks nothing; it catches up at its first tick when shown.
      if (document.hidden) {
        if (!stopped) timer = setTimeout(poll, POLL_MS);
        return;
      }
      try {
        const c = await get('/api/v1/changes', cursor.current ? { since: cursor.current } : {});
        if (cursor.current !== null && c.cursor !== cursor.current) {
          setVersions((v) => {
            const next = { ...v };
            const areas = c.all ? ['trust', 'registry', 'user', '*'] : c.areas;
            for (const a of areas) next[a] = (next[a] || 0) + 1;
            next['*'] = (next['*'] || 0) + 1;
            return next;
          });
        }
        cursor.current = c.cursor;
      } catch {
        // offline for a moment: try again at the next tick
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [enabled]);
  return versions;
}

// Loads with `load()` now, again whenever one of `areas` changes or `deps` change.
// Returns { data, error, loading, reload }.
export function useLive(areas, load, deps = []) {
  const versions = useContext(LiveContext);
  const key = areas.map((a) => versions[a] || 0).join(',');
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [manual, setManual] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    load().then(
      (data) => mine === seq.current && setState({ data, error: null, loading: false }),
      (error) => mine === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [key, manual, ...deps]);
  const reload = useCallback(() => setManual((n) => n + 1), []);
  return { ...state, reload };
}

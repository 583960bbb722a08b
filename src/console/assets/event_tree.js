// The "Event Type" tree: category → group → event, tri-state parents, search.

import { html, useEffect, useRef, useState } from './vendor/preact-htm.js';
import { localized } from './i18n.js';

/// A checkbox that can show "some of these" (indeterminate), which HTML cannot set
/// from markup.
function TriStateBox({ state, label, onChange, id }) {
  const ref = useRef();
  useEffect(() => {
    ref.current.indeterminate = state === 'some';
  }, [state]);
  return html`<input type="checkbox" id=${id} ref=${ref} aria-label=${label} checked=${state === 'all'}
                     aria-checked=${state === 'some' ? 'mixed' : String(state === 'all')} onChange=${onChange} />`;
}

function stateOf(codes, selected) {
  const count = codes.filter((c) => selected.has(c)).length;
  return count === 0 ? 'none' : count === codes.length ? 'all' : 'some';
}

/// `types`: the catalog entries to offer; `selected`: a Set of codes.
export function EventTree({ types, selected, onChange, lang, t, invalid, describedBy }) {
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState({});
  const needle = query.trim().toLowerCase();
  const matches = (type) =>
    !needle || type.code.includes(needle) || localized(type.name, lang).toLowerCase().includes(needle)
    || localized(type.group.name, lang).toLowerCase().includes(needle);

  // category id → { node, groups: group id → { node, types } }, in catalog order.
  const tree = [];
  for (const type of types.filter(matches)) {
    let category = tree.find((c) => c.node.id === type.category.id);
    if (!category) tree.push((category = { node: type.category, groups: [] }));
    let group = category.groups.find((g) => g.node.id === type.group.id);
    if (!group) category.groups.push((group = { node: type.group, types: [] }));
    group.types.push(type);
  }

  const setMany = (codes, on) => {
    const next = new Set(selected);
    for (const code of codes) {
      if (on) next.add(code);
      else next.delete(code);
    }
    onChange(next);
  };
  const toggleGroup = (codes) => setMany(codes, stateOf(codes, selected) !== 'all');

  return html`
    <div class="event-tree ${invalid ? 'invalid' : ''}" aria-describedby=${describedBy}>
      <div class="tree-tools">
        <input type="search" id="event-type-search" aria-label=${t('tree.search')} placeholder=${t('tree.search')}
               value=${query} onInput=${(e) => setQuery(e.target.value)} />
        <span class="muted" aria-live="polite">${t('tree.selected', { count: selected.size })}</span>
      </div>
      <ul class="tree" role="tree" aria-label=${t('field.eventTypes')}>
        ${tree.map((category) => {
          const codes = category.groups.flatMap((g) => g.types.map((x) => x.code));
          const name = localized(category.node.name, lang);
          return html`
            <li role="treeitem" aria-expanded="true" key=${category.node.id}>
              <div class="tree-row">
                <${TriStateBox} id="tree-${category.node.id}" label=${name} state=${stateOf(codes, selected)}
                                onChange=${() => toggleGroup(codes)} />
                <label for="tree-${category.node.id}" class="tree-category">${name}</label>
              </div>
              <ul role="group">
                ${category.groups.map((group) => {
                  const groupCodes = group.types.map((x) => x.code);
                  const groupName = localized(group.node.name, lang);
                  const expanded = needle ? true : Boolean(open[group.node.id]);
                  const boxId = `tree-${group.node.id.replace(/\./g, '-')}`;
                  return html`
                    <li role="treeitem" aria-expanded=${expanded} key=${group.node.id}>
                      <div class="tree-row">
                        <button type="button" class="twisty" aria-expanded=${expanded}
                                aria-label=${t(expanded ? 'tree.collapse' : 'tree.expand', { name: groupName })}
                                onClick=${() => setOpen({ ...open, [group.node.id]: !expanded })}>${expanded ? '▾' : '▸'}</button>
                        <${TriStateBox} id=${boxId} label=${groupName} state=${stateOf(groupCodes, selected)}
                                        onChange=${() => toggleGroup(groupCodes)} />
                        <label for=${boxId}>${groupName}</label>
                      </div>
                      ${expanded && html`
                        <ul role="group">
                          ${group.types.map((type) => html`
                            <li role="treeitem" key=${type.code}>
                              <div class="tree-row leaf">
                                <input type="checkbox" id="tree-${type.code.replace(/\./g, '-')}" data-code=${type.code}
                                       checked=${selected.has(type.code)} onChange=${() => setMany([type.code], !selected.has(type.code))} />
                                <label for="tree-${type.code.replace(/\./g, '-')}">${localized(type.name, lang)}</label>
                              </div>
                            </li>`)}
                        </ul>`}
                    </li>`;
                })}
              </ul>
            </li>`;
        })}
      </ul>
    </div>`;
}

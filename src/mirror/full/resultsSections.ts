import type { Json, Study } from '../../studies/model.js';
import { factList, inl, inline, markdownBlock, obj, objs, section, str, strs, table, type Obj, type TableLimits } from './markdown.js';

/**
 * The results of a study (resultsSection modules, stored under `results.*`): participant flow,
 * baseline, outcome measures, adverse events, limitations and point of contact. Every grid is a
 * table with one column per group, bounded by the limits.
 */
export function resultsSection(f: Study['fields'], limits: TableLimits): string {
  const flow = obj(f['results.participantFlow']);
  const baseline = obj(f['results.baselineCharacteristics']);
  const outcomes = obj(f['results.outcomeMeasures']);
  const events = obj(f['results.adverseEvents']);
  const moreInfo = obj(f['results.moreInfo']);
  // A module present but empty of anything shown adds nothing: then results are still pending.
  return (
    section('Results', [
      flow && participantFlow(flow, limits),
      baseline && baselineCharacteristics(baseline, limits),
      outcomes && outcomeMeasures(outcomes, limits),
      events && adverseEvents(events, limits),
      moreInfo && moreInformation(moreInfo),
    ]) ?? RESULTS_PENDING
  );
}

const RESULTS_PENDING = '## Results\n\nResults pending: no results are posted on ClinicalTrials.gov for this study.';

interface Group {
  id: string;
  title: string;
}

function groupsOf(value: Json | undefined): Group[] {
  return objs(value).map((g, i) => ({ id: str(g['id']) ?? `#${i + 1}`, title: str(g['title']) ?? str(g['id']) ?? `Group ${i + 1}` }));
}

function groupList(groups: Group[], source: Json | undefined): string | undefined {
  const descriptions = new Map(objs(source).map((g) => [str(g['id']), str(g['description'])]));
  const lines = groups.map((g) => {
    const d = descriptions.get(g.id);
    return `- **${inline(g.title)}**${d ? `: ${inline(d)}` : ''}`;
  });
  return lines.length ? `**Groups:**\n\n${lines.join('\n')}` : undefined;
}

/** Values by group ID, for one row of a grid. */
function byGroup(items: Json | undefined, value: (o: Obj) => string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of objs(items)) {
    const id = str(o['groupId']);
    const v = value(o);
    if (id !== undefined && v !== undefined) out.set(id, v);
  }
  return out;
}

function row(label: string, groups: Group[], values: Map<string, string>): string[] {
  return [label, ...groups.map((g) => values.get(g.id) ?? '')];
}

function participantFlow(flow: Obj, limits: TableLimits): string | undefined {
  const groups = groupsOf(flow['groups']);
  const periods = objs(flow['periods']).map((p, i) => {
    const rows = objs(p['milestones']).map((m) => row(str(m['type']) ?? '(milestone)', groups, byGroup(m['achievements'], (a) => str(a['numSubjects']))));
    const drops = objs(p['dropWithdraws']).map((d) =>
      row(`Not completed: ${str(d['type']) ?? 'other'}`, groups, byGroup(d['reasons'], (r) => str(r['numSubjects']))),
    );
    const title = str(p['title']) ?? `Period ${i + 1}`;
    return `**${inline(title)}**\n\n${table(['Milestone', ...groups.map((g) => g.title)], [...rows, ...drops], limits)}`;
  });
  return section('Participant Flow', [
    factList([
      ['Recruitment', inl(flow['recruitmentDetails'])],
      ['Pre-assignment', inl(flow['preAssignmentDetails'])],
      ['Units', inl(flow['typeUnitsAnalyzed'])],
    ]),
    groupList(groups, flow['groups']),
    ...periods,
  ], 3);
}

/** `value ± spread (lower to upper)`, as much as the measurement gives. */
function measurement(m: Obj): string | undefined {
  const value = str(m['value']);
  if (value === undefined) return undefined;
  const spread = str(m['spread']);
  const lower = str(m['lowerLimit']);
  const upper = str(m['upperLimit']);
  return `${value}${spread ? ` ± ${spread}` : ''}${lower !== undefined || upper !== undefined ? ` (${lower ?? '?'} to ${upper ?? '?'})` : ''}`;
}

/** The rows of a measure's grid: one per category of each class, labelled with both titles. */
function measureRows(measure: Obj, groups: Group[]): string[][] {
  const rows: string[][] = [];
  for (const cls of objs(measure['classes'])) {
    const classTitle = str(cls['title']);
    for (const cat of objs(cls['categories'])) {
      const catTitle = str(cat['title']);
      const label = [classTitle, catTitle].filter((t): t is string => t !== undefined).join(': ') || 'All';
      rows.push(row(label, groups, byGroup(cat['measurements'], measurement)));
    }
  }
  return rows;
}

function measureFacts(m: Obj): string | undefined {
  return factList([
    ['Type', inl(m['type'])],
    ['Time frame', inl(m['timeFrame'])],
    ['Units', inl(m['unitOfMeasure'])],
    ['Measure', [str(m['paramType']), str(m['dispersionType'])].filter((v): v is string => v !== undefined).map(inline).join(', ') || undefined],
    ['Status', str(m['reportingStatus']) === 'POSTED' ? undefined : inl(m['reportingStatus'])],
  ]);
}

function baselineCharacteristics(baseline: Obj, limits: TableLimits): string | undefined {
  const groups = groupsOf(baseline['groups']);
  const header = ['Characteristic', ...groups.map((g) => g.title)];
  const denoms = objs(baseline['denoms']).map((d) =>
    row(`Participants analysed${str(d['units']) ? ` (${str(d['units'])})` : ''}`, groups, byGroup(d['counts'], (c) => str(c['value']))),
  );
  const measures = objs(baseline['measures']).map((m) => {
    const title = str(m['title']) ?? '(untitled measure)';
    return `**${inline(title)}**\n\n${[measureFacts(m), table(header, measureRows(m, groups), limits)].filter(Boolean).join('\n\n')}`;
  });
  const population = str(baseline['populationDescription']);
  return section('Baseline Characteristics', [
    population && markdownBlock(population),
    groupList(groups, baseline['groups']),
    denoms.length ? table(header, denoms, limits) : undefined,
    ...measures,
  ], 3);
}

function outcomeMeasures(module: Obj, limits: TableLimits): string | undefined {
  const measures = objs(module['outcomeMeasures']).map((m, i) => {
    const groups = groupsOf(m['groups']);
    const rows = measureRows(m, groups);
    const description = str(m['description']);
    const header = ['Category', ...groups.map((g) => g.title)];
    const denoms = objs(m['denoms']).map((d) =>
      row(`Participants analysed${str(d['units']) ? ` (${str(d['units'])})` : ''}`, groups, byGroup(d['counts'], (c) => str(c['value']))),
    );
    return section(`${i + 1}. ${inline(str(m['title']) ?? '(untitled outcome)')}`, [
      measureFacts(m),
      description && markdownBlock(description),
      denoms.length + rows.length ? table(header, [...denoms, ...rows], limits) : undefined,
      rows.length ? undefined : 'No values posted.',
      analyses(m, groups),
    ], 4);
  });
  return section('Outcome Measures', measures, 3);
}

/** The statistical analyses of an outcome: the groups compared, the p-value and the method. */
function analyses(m: Obj, groups: Group[]): string | undefined {
  const titles = new Map(groups.map((g) => [g.id, g.title]));
  const lines = objs(m['analyses']).map((a) => {
    const compared = strs(a['groupIds']).map((id) => inline(titles.get(id) ?? id)).join(' vs ');
    const pValue = str(a['pValue']);
    const estimate = str(a['paramValue']);
    const details = [
      pValue && `p-value ${inline(pValue)}`,
      str(a['statisticalMethod']) && inline(str(a['statisticalMethod'])!),
      estimate && `${inline(str(a['paramType']) ?? 'estimate')} ${inline(estimate)}`,
      str(a['ciPctValue']) && `${inline(str(a['ciPctValue'])!)}% CI ${inline(str(a['ciLowerLimit']) ?? '?')} to ${inline(str(a['ciUpperLimit']) ?? '?')}`,
    ].filter((d): d is string => !!d);
    return `- ${compared || 'Analysis'}: ${details.join('; ') || 'no statistics given'}`;
  });
  return lines.length ? `**Statistical analyses:**\n\n${lines.join('\n')}` : undefined;
}

/** The most frequent terms of one kind of event, by participants affected over all groups. */
function eventTerms(label: string, events: Json | undefined, groups: Group[], limits: TableLimits): string | undefined {
  const list = objs(events);
  if (list.length === 0) return undefined;
  const affected = (e: Obj) => objs(e['stats']).reduce((sum, s) => sum + (typeof s['numAffected'] === 'number' ? s['numAffected'] : 0), 0);
  const ranked = list.map((e, i) => ({ e, i, n: affected(e) })).sort((a, b) => b.n - a.n || a.i - b.i);
  const rows = ranked.map(({ e }) =>
    row(
      `${str(e['term']) ?? '(term)'}${str(e['organSystem']) ? ` (${str(e['organSystem'])})` : ''}`,
      groups,
      byGroup(e['stats'], (s) => (str(s['numAffected']) !== undefined ? `${str(s['numAffected'])}/${str(s['numAtRisk']) ?? '?'}` : undefined)),
    ),
  );
  return `**${label}, most frequent first** (participants affected / at risk):\n\n${table(['Term', ...groups.map((g) => g.title)], rows, limits)}`;
}

function adverseEvents(events: Obj, limits: TableLimits): string | undefined {
  const groups = groupsOf(events['eventGroups']);
  const eventGroups = objs(events['eventGroups']);
  const total = (key: string) => {
    const values = new Map<string, string>();
    eventGroups.forEach((g, i) => {
      const affected = str(g[`${key}NumAffected`]);
      if (affected !== undefined) values.set(groups[i]!.id, `${affected}/${str(g[`${key}NumAtRisk`]) ?? '?'}`);
    });
    return values;
  };
  const totals = [
    row('Deaths (all causes)', groups, total('deaths')),
    row('Serious adverse events', groups, total('serious')),
    row('Other adverse events', groups, total('other')),
  ].filter((r) => r.slice(1).some((v) => v !== ''));
  const description = str(events['description']);
  return section('Adverse Events', [
    factList([
      ['Time frame', inl(events['timeFrame'])],
      ['Frequency threshold for other events', str(events['frequencyThreshold']) && `${inline(str(events['frequencyThreshold'])!)}%`],
    ]),
    description && markdownBlock(description),
    groupList(groups, events['eventGroups']),
    totals.length ? `**Totals** (participants affected / at risk):\n\n${table(['', ...groups.map((g) => g.title)], totals, limits)}` : undefined,
    eventTerms('Serious adverse events', events['seriousEvents'], groups, limits),
    eventTerms('Other adverse events', events['otherEvents'], groups, limits),
  ], 3);
}

function moreInformation(info: Obj): string | undefined {
  const limitations = str(obj(info['limitationsAndCaveats'])?.['description']);
  const contact = obj(info['pointOfContact']);
  const phone = str(contact?.['phone']);
  const ext = str(contact?.['phoneExt']);
  return [
    limitations && section('Limitations and Caveats', [markdownBlock(limitations)], 3),
    contact &&
      section('Results Point of Contact', [
        factList([
          ['Name or title', inl(contact['title'])],
          ['Organization', inl(contact['organization'])],
          ['Email', inl(contact['email'])],
          ['Phone', phone && `${inline(phone)}${ext ? ` ext. ${inline(ext)}` : ''}`],
        ]),
      ], 3),
  ]
    .filter((s): s is string => !!s)
    .join('\n\n') || undefined;
}

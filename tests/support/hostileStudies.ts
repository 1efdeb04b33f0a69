import { readFixture } from './ctgovFixtures.js';

/*
 * Records that stress storage and rendering: huge, full of unicode and control characters, or
 * written to break out of the mirror page's YAML front matter and fenced criteria block.
 */

type Raw = Record<string, any>;

/** A real record (NCT00162175: description, arms, outcomes, eligibility, sites) under another ID. */
export function baseStudy(nctId: string): Raw {
  const raw = readFixture('NCT00162175') as Raw;
  raw.protocolSection.identificationModule.nctId = nctId;
  delete raw.protocolSection.identificationModule.nctIdAliases;
  return raw;
}

/** About `bytes` of serialized JSON, most of it in the detailed description (paragraphs of text). */
export function hugeStudy(nctId: string, bytes = 4 * 1024 * 1024): Raw {
  const raw = baseStudy(nctId);
  const paragraph = 'Participants are followed for adverse events, quality of life and survival. ';
  raw.protocolSection.descriptionModule.detailedDescription = paragraph.repeat(Math.ceil(bytes / paragraph.length));
  return raw;
}

/** Every kind of character a title or criteria text can carry, NUL excepted (see nulStudy). */
export const UNICODE_TEXT =
  'Ünïcödé 日本語 עברית العربية 😀 𝔘 e\u0301 \u202eRTL-override\u202c \u200bzero-width\u200b ' +
  'C0: \u0001\u0007\u0008\u000b\u000c\u001b\u001f DEL: \u007f C1: \u0085\u0080\u009f LS:\u2028 PS:\u2029 BOM:\ufeff ' +
  'tab:\t CR:\r LF:\n end';

export function unicodeStudy(nctId: string): Raw {
  const raw = baseStudy(nctId);
  raw.protocolSection.identificationModule.briefTitle = UNICODE_TEXT;
  raw.protocolSection.sponsorCollaboratorsModule.leadSponsor.name = `Sponsor ${UNICODE_TEXT}`;
  raw.protocolSection.eligibilityModule.eligibilityCriteria = `Inclusion Criteria:\n\n* ${UNICODE_TEXT}\n`;
  return raw;
}

/** Postgres text and jsonb cannot hold U+0000; such a record cannot be stored as given. */
export function nulStudy(nctId: string): Raw {
  const raw = baseStudy(nctId);
  raw.protocolSection.identificationModule.briefTitle = 'Title with a NUL \u0000 inside';
  return raw;
}

/** Values written to end the front matter early, inject keys, or close the criteria fence. */
export const BREAKOUT_TITLE = 'Phase 2: "quoted" #hash\n---\nnct_id: NCT00000001\noverall_status: HACKED\n---\n# injected heading';
export const BREAKOUT_CRITERIA =
  'Inclusion Criteria:\n\n* age >= 18\n```\n\n## Injected section\n\n````\n---\ntitle: injected\n---\n~~~\nExclusion Criteria:\n\n* none';
export const SQL_TITLE = "Robert'); DROP TABLE ctgov.studies; -- $1 $$ \\' %s ${x} /* */";

export function breakoutStudy(nctId: string): Raw {
  const raw = baseStudy(nctId);
  const ident = raw.protocolSection.identificationModule;
  ident.briefTitle = BREAKOUT_TITLE;
  ident.officialTitle = '- leading dash: and colon';
  ident.acronym = "'; --";
  raw.protocolSection.sponsorCollaboratorsModule.leadSponsor.name = "&anchor *alias !tag | > % @ ` {flow: [seq]}";
  raw.protocolSection.conditionsModule.conditions = ['---', '...', 'null', 'yes', '0x1F', '2024-01-01', '#comment'];
  raw.protocolSection.eligibilityModule.eligibilityCriteria = BREAKOUT_CRITERIA;
  return raw;
}

export function sqlStudy(nctId: string): Raw {
  const raw = baseStudy(nctId);
  raw.protocolSection.identificationModule.briefTitle = SQL_TITLE;
  raw.protocolSection.conditionsModule.conditions = ["x' OR '1'='1", 'a"; DELETE FROM ctgov.field_changes; --'];
  return raw;
}

/** A record whose nctId is a path, as a hostile or broken upstream might send. */
export function pathIdStudy(nctId = '../../etc/x'): Raw {
  const raw = baseStudy('NCT00000001');
  raw.protocolSection.identificationModule.nctId = nctId;
  return raw;
}

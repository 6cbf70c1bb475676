import { Foundation1763800000000 } from './1763800000000-foundation';
import { Messaging1763820000000 } from './1763820000000-messaging';
import { HealthAndGuards1763830000000 } from './1763830000000-health-and-guards';
import { TemplateVersions1763840000000 } from './1763840000000-template-versions';
import { Delivery1763860000000 } from './1763860000000-delivery';
import { Tracking1763870000000 } from './1763870000000-tracking';
import { HealthSnapshots1763880000000 } from './1763880000000-health-snapshots';
import { Engine1763890000000 } from './1763890000000-engine';
import { ConsoleIndexes1763900000000 } from './1763900000000-console-indexes';
import { ConsoleSummaries1763900000001 } from './1763900000001-console-summaries';
import { ConsoleEnrollments1763900000002 } from './1763900000002-console-enrollments';
import { HealthFillfactor1763910000100 } from './1763910000100-health-fillfactor';
import { IngestIndexes1763920000000 } from './1763920000000-ingest-indexes';
import { EngineLeanIndexes1763920000100 } from './1763920000100-engine-lean-indexes';
import { HealthSetBasedReferences1763920000400 } from './1763920000400-health-set-based-references';
import { HealthSnapshotsDayBrin1763920000401 } from './1763920000401-health-snapshots-day-brin';
import { MessagesIndexes1763920000500 } from './1763920000500-messages-indexes';
import { HealthComponentsJson1763930000400 } from './1763930000400-health-components-json';
import { EnrollmentClaimsAsLocks1763950000000 } from './1763950000000-enrollment-claims-as-locks';

/** Every migration, in order. Listed explicitly so that builds and tests load the same set. */
export const migrations = [
  Foundation1763800000000,
  Messaging1763820000000,
  HealthAndGuards1763830000000,
  TemplateVersions1763840000000,
  Delivery1763860000000,
  Tracking1763870000000,
  HealthSnapshots1763880000000,
  Engine1763890000000,
  ConsoleIndexes1763900000000,
  ConsoleSummaries1763900000001,
  ConsoleEnrollments1763900000002,
  HealthFillfactor1763910000100,
  IngestIndexes1763920000000,
  EngineLeanIndexes1763920000100,
  HealthSetBasedReferences1763920000400,
  HealthSnapshotsDayBrin1763920000401,
  MessagesIndexes1763920000500,
  HealthComponentsJson1763930000400,
  EnrollmentClaimsAsLocks1763950000000,
];

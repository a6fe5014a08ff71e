// Sample documents of the issue 17 request kinds, shared by the domain and flow tests.
import { buildCalendarEntry } from "../../src/domain/requests/calendarEntry.js";
import { buildEventRequest } from "../../src/domain/requests/eventRequest.js";
import { buildMassBranch } from "../../src/domain/requests/massBranch.js";
import { buildMassRebuild } from "../../src/domain/requests/massRebuild.js";
import { buildSigRequest } from "../../src/domain/requests/sigRequest.js";

export const massBranch = buildMassBranch({
  version: 44,
  name: "F44",
  long_name: "Fedora 44",
  id_prefix: "FEDORA",
  branch: "f44",
  dist_tag: "f44",
  stable_tag: "f44-updates",
  testing_tag: "f44-updates-testing",
  candidate_tag: "f44-updates-candidate",
  pending_stable_tag: "f44-updates-pending",
  pending_testing_tag: "f44-updates-testing-pending",
  pending_signing_tag: "f44-signing-pending",
  override_tag: "f44-override",
  state: "pending",
  create_automatic_updates: false,
});
export const massRebuild = buildMassRebuild({
  epoch: "2023-07-19 10:30:00.000000",
  buildtag: "f39-rebuild",
  targets: ["f39-candidate", "rawhide", "f39"],
  target: "f39-rebuild",
  desttag: "f39",
  product: "Fedora",
  version: "rawhide",
  rawhide_version: "39",
  tracking_bug: "2168842",
  wikipage: "https://fedoraproject.org/wiki/Fedora_39_Mass_Rebuild",
  pkg_skip_list: ["kernel", "shim"],
});
export const sig = buildSigRequest({
  group: "python-sig",
  description: "Python packaging in Fedora",
  members: ["kvaldez", "rcarter"],
  acls: [{ namespace: "rpms", acl: "commit", match: ["python-*", "!python2-*"] }],
});
export const event = buildEventRequest({
  name: "Flock 2026",
  dates: { start: "2026-06-03", end: "2026-06-05" },
  location: "Prague, Czech Republic",
  owner: "jdoe",
  size: "large",
  budget: { amount: 25000, currency: "USD" },
});
export const meeting = buildCalendarEntry({
  meeting_name: "FESCo meeting",
  meeting_date: "2026-12-09",
  meeting_time_start: "17:00:00",
  meeting_time_stop: "18:00:00",
  meeting_timezone: "UTC",
  meeting_manager: ["jdoe"],
  meeting_location: "#meeting-1:fedoraproject.org",
  meeting_information: null,
});


"""Tag keys that name a resource's team and project, one definition for analyses and report."""

from __future__ import annotations

#: Tag keys that mean "team" (real companies spell it several ways; CUR 2.0 writes `owner-team`
#: as `owner_team`); the first one present wins.
TEAM_TAG_KEYS = ("team", "Team", "owner-team", "owner_team")
#: Tag keys that mean "project".
PROJECT_TAG_KEYS = ("project", "Project")

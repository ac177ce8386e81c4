-- Who a started ring left out and why (issue 7): agents in the rollout's scope whose effective
-- `auto_update` policy is not "on" (percentage rings take only agents that opted in), and agents
-- for whose platform and arch no release of the version exists. Folded from the fields appended
-- to RolloutRingStarted; empty for rings started before them. Never edit after release.
ALTER TABLE rollout_rings
  ADD COLUMN excluded_by_policy      uuid[] NOT NULL DEFAULT '{}',
  ADD COLUMN no_release_for_platform uuid[] NOT NULL DEFAULT '{}';

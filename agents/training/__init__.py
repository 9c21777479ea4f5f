"""Training: the trainers (`scheduled_sampling`, `dagger`, `policy_gradient` for PPO and
REINFORCE, `improve` for improvement from the agent's own search) and their parts (`losses`,
`advantages`, `imitation` and `dataset` for the supervised updates, `group_update`)."""

<#
  Resource registry (CONC-REG-001). Tasks claim these in resource_requirements:
  "exclusive", "shared" or an amount. MaxHolders = -1 means unlimited;
  rate_limited resources are token buckets refilled at RefillRate units/second.
#>
@{
    schema_version = '1.0.0'
    schema_url     = 'https://orc-state.dev/schemas/resource-registry/1.0.0.json'

    Resources = @(
        @{
            ResourceId  = 'ci-runners'
            Type        = 'shared'
            Description = 'The CI runner pool; each holder uses one runner.'
            MaxHolders  = 4
        }
        @{
            ResourceId  = 'staging-db'
            Type        = 'exclusive'
            Description = 'The staging database: end-to-end suites reset it, so only one may run at a time.'
            MaxHolders  = 1
        }
        @{
            ResourceId  = 'llm-api'
            Type        = 'rate_limited'
            Description = 'LLM API request budget shared by all aider workers (bucket of 40 requests).'
            MaxHolders  = 40
            RefillRate  = 0.5   # requests per second
        }
        @{
            ResourceId  = 'bench-host'
            Type        = 'exclusive'
            Description = 'The quiet machine used for benchmarks; nothing else may run on it during a benchmark.'
            MaxHolders  = 1
        }
        @{
            ResourceId  = 'git-remote'
            Type        = 'exclusive'
            Description = 'The release remote: one push at a time.'
            MaxHolders  = 1
        }
    )
}

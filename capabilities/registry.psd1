<#
  Capability registry (CAP-REG-001, CAP-REG-002).
  Tasks name these ids in worker_requirements.capabilities; workers announce
  them when they register. PowerShell data-file syntax: literal data only.
  Check it with:  orc-state validate --section registry
#>
@{
    schema_version = '1.0.0'
    schema_url     = 'https://orc-state.dev/schemas/capability-registry/1.0.0.json'

    Capabilities = @(
        @{
            CapabilityId = 'aider.edit'
            Version      = '2.1.0'
            Name         = 'Aider code edit'
            Description  = 'Edit files in the working tree with aider from a natural-language instruction, limited to the context files the task allows.'
            Provider     = 'aider'
            Requirements = @{
                Tools       = @('aider>=0.60', 'git>=2.40')
                Credentials = @('LLM_API_KEY')
            }
            Operations   = @('edit', 'refactor', 'document')
            Stability    = 'stable'
            SinceVersion = '0.1.0'
            DeprecatedBy = $null
        }
        @{
            CapabilityId = 'aider.edit-v1'
            Version      = '1.4.2'
            Name         = 'Aider code edit (first adapter)'
            Description  = "First aider adapter: passes every repository file as context.`nKept for old workers only."
            Provider     = 'aider'
            Requirements = @{ Tools = @('aider>=0.40') }
            Operations   = @('edit')
            Stability    = 'deprecated'
            SinceVersion = '0.0.1'
            DeprecatedBy = 'aider.edit'
        }
        @{
            CapabilityId = 'python.pytest'
            Version      = '1.0.0'
            Name         = 'pytest runner'
            Description  = 'Run a pytest selection and report passed/failed counts; exit code 0 means every selected test passed.'
            Provider     = 'shell'
            Requirements = @{ Tools = @('python>=3.10', 'pytest>=8.0') }
            Operations   = @('test')
            Stability    = 'stable'
            SinceVersion = '0.1.0'
            DeprecatedBy = $null
        }
        @{
            CapabilityId = 'node.typescript'
            Version      = '1.1.0'
            Name         = 'Node.js and TypeScript toolchain'
            Description  = 'Type-check and lint TypeScript and Markdown with the tools pinned in package.json.'
            Provider     = 'shell'
            Requirements = @{ Tools = @('node>=20.19', 'npm>=10') }
            Operations   = @('typecheck', 'lint')
            Stability    = 'stable'
            SinceVersion = '0.1.0'
            DeprecatedBy = $null
        }
        @{
            CapabilityId = 'shell.exec'
            Version      = '1.0.0'
            Name         = 'Shell command'
            Description  = 'Run a POSIX shell command in the repository; the exit code decides success.'
            Provider     = 'shell'
            Requirements = @()
            Operations   = @('run')
            Stability    = 'stable'
            SinceVersion = '0.1.0'
            DeprecatedBy = $null
        }
        @{
            CapabilityId = 'git.push'
            Version      = '0.3.0'
            Name         = 'Push to the release remote'
            Description  = 'Create tags and push them to the release remote with a deploy key.'
            Provider     = 'shell'
            Requirements = @{ Credentials = @('GIT_DEPLOY_KEY') }
            Operations   = @('tag', 'push')
            Stability    = 'experimental'
            SinceVersion = '0.2.0'
            DeprecatedBy = $null
        }
    )
}

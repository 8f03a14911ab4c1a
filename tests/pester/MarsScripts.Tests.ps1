# MARS-style scripts (tests/pester/scripts/, see its README) run unchanged but for paths: each in a fresh
# pwsh that finds only the build's module folder on PSModulePath and imports MSOnlineBackup by name,
# in journey order against one real vault: register, file policy, System State policy, backup now,
# monitoring check, management overview, restore.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    $modules = Split-Path -Parent $env:OBAGENT_TEST_MODULE
    $scripts = Join-Path $PSScriptRoot 'scripts'

    # Runs scripts/<Name>.ps1 with its parameters in a fresh pwsh; returns exit code and output lines.
    function Invoke-MarsScript([string] $Name, [hashtable] $Parameters = @{}) {
        $argv = @('-NoProfile', '-NonInteractive', '-File', (Join-Path $scripts "$Name.ps1"))
        foreach ($k in $Parameters.Keys) {
            $argv += "-$k"
            $argv += @($Parameters[$k]) -join ','
        }
        $saved = $env:PSModulePath
        try {
            $env:PSModulePath = $modules + [IO.Path]::PathSeparator + (Join-Path $PSHOME 'Modules')
            $out = & (Get-PwshPath) @argv 2>&1
            $rc = $LASTEXITCODE
        } finally { $env:PSModulePath = $saved }
        [pscustomobject]@{ ExitCode = $rc; Lines = @($out | ForEach-Object { "$_" }) }
    }
}

Describe 'MARS scripts, unchanged but for paths' {
    BeforeAll {
        $ctx = New-TestContext
        New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
        $cred = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds
        $data = Join-Path $ctx.Root 'data'
        New-Item -ItemType Directory -Path (Join-Path $data 'reports'), (Join-Path $data 'tmp') -Force | Out-Null
        foreach ($i in 1..5) { Set-Content -LiteralPath (Join-Path $data "reports/finance$i.txt") -Value ("finance $i " * 300) }
        Set-Content -LiteralPath (Join-Path $data 'tmp/scratch.txt') -Value 'scratch'
    }
    AfterAll { Remove-TestContext $ctx }

    It 'registers the server and sets the passphrase' {
        $r = Invoke-MarsScript 'Register-Server' @{ VaultCredentials = $cred.FullName; Passphrase = 'Mars-Scripts-Passphrase-0123' }
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        $r.Lines | Should -Contain 'Server properties updated successfully.'
        $r.Lines[-1] | Should -Be 'Registered; encryption Set'
        Test-SecretInFiles -Path $ctx.Root -Text 'Mars-Scripts-Passphrase-0123' | Should -BeNullOrEmpty
    }

    It 'commits the file and folder policy with weekly, monthly and yearly retention and reads it back' {
        $r = Invoke-MarsScript 'Set-FileFolderPolicy' @{ Include = $data; Exclude = (Join-Path $data 'tmp') }
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        $p = $r.Lines[-1] | ConvertFrom-Json
        $p.Days | Should -Match 'Saturday'
        $p.Days | Should -Match 'Sunday'
        $p.Times | Should -Match '16:00'
        $p.Weeks | Should -Be 4
        $p.Months | Should -Be 12
        $p.Years | Should -Be 3
        $p.Included | Should -Be @($data)
        $p.Excluded | Should -Be @((Join-Path $data 'tmp'))
        @($p.Datasource)[0] | Should -BeGreaterThan 0
    }

    It 'commits the System State policy in one unattended pipeline; pausing it leaves the file policy alone' {
        $r = Invoke-MarsScript 'Set-SystemStatePolicy'
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        $s = $r.Lines[-1] | ConvertFrom-Json
        $s.Paused | Should -Be 'Paused'
        $s.FileState | Should -Be 'Valid'
        $s.Resumed | Should -Be 'Valid'
        $s.WriterId | Should -Be 'da57a531-e7e7-4346-9a68-b511f551deb6'
        $s.Days | Should -Be 32
    }

    It 'backs up now and prints MARS''s completion line' {
        $r = Invoke-MarsScript 'Start-BackupNow'
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        # MARS's eight progress lines, in order (mars.md 1.4).
        @($r.Lines | Where-Object { $_ -like 'progress: *' }) | Should -Be @(
            'progress: Initializing'
            'progress: Taking snapshot of volumes...'
            'progress: Preparing storage...'
            'progress: Generating backup metadata information and preparing the metadata VHD...'
            'progress: Data transfer is in progress...'
            'progress: Data transfer completed ... Verifying data integrity...'
            'progress: Job completed.'
            'progress: The backup operation completed successfully.'
        )
        $r.Lines[-1] | Should -Be 'state: Completed'
    }

    It 'a monitoring check reports OK with the job''s bytes, then critical after a failed backup' {
        $r = Invoke-MarsScript 'Check-BackupHealth'
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        $h = $r.Lines[-1] | ConvertFrom-Json
        $h.status | Should -Be 'ok'
        $h.lastState | Should -Be 'Completed'
        $h.bytes | Should -BeGreaterThan 0
        $h.errorCode | Should -Be 0
        $h.usage | Should -BeGreaterThan 0

        # Nothing left to protect: the backup fails, and the check says critical.
        Rename-Item -LiteralPath $data -NewName 'data-away'
        try {
            $b = Invoke-MarsScript 'Start-BackupNow'
            $b.ExitCode | Should -Not -Be 0
            $r = Invoke-MarsScript 'Check-BackupHealth'
            $r.ExitCode | Should -Be 2 -Because ($r.Lines -join "`n")
            $h = $r.Lines[-1] | ConvertFrom-Json
            $h.status | Should -Be 'critical'
            $h.lastState | Should -Be 'Failed'
            $h.errorCode | Should -Not -Be 0
            $h.failedJobs | Should -Be 1
        } finally {
            Rename-Item -LiteralPath (Join-Path $ctx.Root 'data-away') -NewName 'data'
        }
    }

    It 'a management overview reads registration, jobs and copies through MARS''s .NET types' {
        $r = Invoke-MarsScript 'Get-AgentOverview'
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        $o = $r.Lines[-1] | ConvertFrom-Json
        $o.Registered | Should -BeTrue
        $o.Running | Should -Be 0
        $o.Finished | Should -Be 2
        $o.LastJob | Should -Be 'Failed'
        ([DateTime]$o.LatestCopy).Year | Should -BeGreaterThan 2000
        [DateTime]$o.OldestCopy | Should -BeLessOrEqual ([DateTime]$o.LatestCopy)
        $o.UpdatePopup | Should -BeFalse
        $o.Problem | Should -Not -BeNullOrEmpty
    }

    It 'restores what a search finds to another folder, byte for byte' {
        $dest = Join-Path $ctx.Root 'restored'
        New-Item -ItemType Directory -Path $dest | Out-Null
        $r = Invoke-MarsScript 'Restore-Files' @{ Location = $data; SearchString = 'finance*'; Destination = $dest }
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        $r.Lines[-1] | Should -Be 'The recovery operation completed successfully.'
        $restored = @(Get-ChildItem -LiteralPath $dest -Recurse -File -Filter 'finance*')
        $restored.Count | Should -Be 5
        foreach ($f in $restored) {
            (Get-FileHash -LiteralPath $f.FullName).Hash | Should -Be (Get-FileHash -LiteralPath (Join-Path $data "reports/$($f.Name)")).Hash
        }
    }

    It 'restores another server''s folder here, its passphrase given to Start-OBRecovery only' {
        $b = New-TestContext
        try {
            $b.Vault = $ctx.Vault
            $credB = Register-TestServer $b
            $dest = Join-Path $b.Root 'from-other-server'
            $source = (Get-OBAlternateBackupServer | Where-Object ServerName -eq $ctx.ServerName | Get-OBRecoverableSource)[0]
            $rel = (Join-Path $data 'reports').Substring($source.FriendlyName.TrimEnd('/').Length).TrimStart('/')
            $r = Invoke-MarsScript 'Restore-FromAlternateServer' @{ VaultCredentials = $credB.FullName; ServerName = $ctx.ServerName
                RelativePath = $rel; Destination = $dest; Passphrase = 'Mars-Scripts-Passphrase-0123' }
            $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
            ($r.Lines -join "`n") | Should -Not -Match 'WARNING' -Because 'the points have genuine summaries'
            $r.Lines | Should -Contain 'The recovery operation completed successfully.'
            $restored = @(Get-ChildItem -LiteralPath $dest -Recurse -File -Filter 'finance*')
            $restored.Count | Should -Be 5
            foreach ($f in $restored) {
                (Get-FileHash -LiteralPath $f.FullName).Hash | Should -Be (Get-FileHash -LiteralPath (Join-Path $data "reports/$($f.Name)")).Hash
            }
        } finally {
            Remove-TestContext $b
            $env:OBAGENT_HOME = $ctx.Home
            $env:OBAGENT_SERVER_NAME = $ctx.ServerName
        }
    }
}

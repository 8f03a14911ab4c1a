# Restore drills through the cmdlets: Start-OBRecoveryDrill (following the job, and -Async),
# Get-OBJob showing the job with JobType RecoveryDrill, Set-OBRecoveryDrill / Get-OBRecoveryDrill,
# a scheduled drill run by the service (`obagent service --once`, the clock pinned with
# OBAGENT_NOW), a drill over a changed byte in a pack failing with an ErrorRecord naming the file,
# and a drill of a server whose vault is on Azure Blob Storage (Azurite on 127.0.0.1, port
# $env:OBAGENT_PESTER_AZURITE_PORT, else 10000; skipped when nothing answers there).

BeforeDiscovery {
    $port = if ($env:OBAGENT_PESTER_AZURITE_PORT) { [int]$env:OBAGENT_PESTER_AZURITE_PORT } else { 10000 }
    $script:AzuriteUp = $false
    $client = [Net.Sockets.TcpClient]::new()
    try {
        $script:AzuriteUp = $client.ConnectAsync('127.0.0.1', $port).Wait(1000) -and $client.Connected
    } catch {
        $script:AzuriteUp = $false
    } finally {
        $client.Dispose()
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    $script:Cli = Join-Path $env:OBAGENT_TEST_MODULE 'obagent'
    $script:Success = 'The recovery drill completed successfully: the newest recovery point can be restored.'

    # A registered server with a passphrase and a backup of <root>/data: text files and random files,
    # bin/big.bin the largest (so the largest pack holds it).
    function Initialize-DrillServer {
        param($Context)
        Register-TestServer $Context | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Drill-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $Context.Root 'data'
        foreach ($d in 'docs', 'bin') { New-Item -ItemType Directory -Path (Join-Path $data $d) -Force | Out-Null }
        foreach ($i in 1..8) { Set-Content -LiteralPath (Join-Path $data "docs/file$i.txt") -Value ("line $i " * 200) }
        $rnd = [Random]::new(11)
        $bytes = [byte[]]::new(2MB)
        $rnd.NextBytes($bytes)
        [IO.File]::WriteAllBytes((Join-Path $data 'bin/big.bin'), $bytes)
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        Get-OBPolicy | Start-OBBackup | Select-Object -Last 1 | Should -Be 'The backup operation completed successfully.'
        $data
    }

    function Wait-NoJob {
        param([int] $Seconds = 300)
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while ((Get-OBJob) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        Get-OBJob | Should -BeNullOrEmpty
    }

    function Get-DrillJobs {
        @(Get-OBJob -Previous 100 | Where-Object { $_.JobType -eq [OBAgent.OBJobType]::RecoveryDrill })
    }

    # The service's step, as the unit runs it: one pass, then exit.
    function Invoke-ServiceStep {
        param([DateTime] $UtcNow)
        $env:OBAGENT_NOW = $UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
        $out = & $script:Cli service --once 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        Wait-NoJob
    }
}

Describe 'Start-OBRecoveryDrill' {
    BeforeEach { $ctx = New-TestContext }
    AfterEach { Remove-TestContext $ctx }

    It 'refuses a server without a recovery point, saying to back up first' {
        Register-TestServer $ctx | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Drill-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $err = Get-ErrorRecord { Start-OBRecoveryDrill -ErrorAction Stop }
        $err | Should -Not -BeNullOrEmpty
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.Exception.Message | Should -BeLike '*Back up first*'
    }

    It 'drills the newest point, shows the job as RecoveryDrill, and records the outcome' {
        Initialize-DrillServer $ctx | Out-Null
        $newest = Get-OBRecoverableSource | Get-OBRecoverableItem | Sort-Object PointInTime -Descending | Select-Object -First 1
        $out = @(Start-OBRecoveryDrill)
        $out[-1] | Should -Be $script:Success
        $job = Get-OBJob -Previous 1
        $job.JobType | Should -Be ([OBAgent.OBJobType]::RecoveryDrill)
        "$($job.JobType)" | Should -Be 'RecoveryDrill'
        $job.JobStatus.JobState | Should -Be 'Completed'
        $job.RecoveryPointId | Should -Be $newest.RecoveryPointId
        $job.FilesDone | Should -Be 9   # all 9 files: fewer than the 20 of a sample
        Join-Path $ctx.Home 'drill' | Should -Not -Exist
        $d = Get-OBRecoveryDrill
        $d.LastDrillState | Should -Be 'Completed'
        $d.LastDrillJobId | Should -Be $job.JobId
        $d.LastDrillTime | Should -Not -BeNullOrEmpty
        $d.LastDrillError | Should -BeNullOrEmpty
        $d.SampleFileCount | Should -Be 20
        $d.SampleSizeInBytes | Should -Be 256MB
    }

    It '-Async returns the job at once; it ends Completed' {
        Initialize-DrillServer $ctx | Out-Null
        $job = Start-OBRecoveryDrill -Async
        $job | Should -BeOfType OBAgent.OBJob
        $job.JobType | Should -Be ([OBAgent.OBJobType]::RecoveryDrill)
        Wait-NoJob
        (Get-OBJob -Previous 1).JobStatus.JobState | Should -Be 'Completed'
    }

    It 'fails over a changed byte in a pack with an ErrorRecord naming the damaged file' {
        $data = Initialize-DrillServer $ctx
        $pack = Get-ChildItem -Path (Join-Path $ctx.Vault 'servers/*/packs/*/*') -File | Sort-Object Length -Descending | Select-Object -First 1
        $bytes = [IO.File]::ReadAllBytes($pack.FullName)
        $at = [int]($bytes.Length / 2)
        $bytes[$at] = [byte](($bytes[$at] + 1) % 256)   # a value different from the one there
        [IO.File]::WriteAllBytes($pack.FullName, $bytes)

        $out = @(Start-OBRecoveryDrill -ErrorVariable drillErr -ErrorAction SilentlyContinue)
        $? | Should -BeFalse
        $out | Should -Not -Contain $script:Success
        $drillErr.Count | Should -Be 1
        $drillErr[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $drillErr[0].FullyQualifiedErrorId | Should -BeLike 'DataCorrupt*'
        $job = Get-OBJob -Previous 1
        $job.JobType | Should -Be ([OBAgent.OBJobType]::RecoveryDrill)
        $job.JobStatus.JobState | Should -Be 'Failed'
        $failed = @($job.GetFailedFiles())

        # What the drill names is what Test-OBRecoveryPoint finds damaged, no more, no less (the changed
        # byte is in the largest pack: big.bin's data, nearly always; whichever file it hit is named).
        $point = Get-OBRecoverableSource | Get-OBRecoverableItem | Sort-Object PointInTime -Descending | Select-Object -First 1
        $test = $point | Test-OBRecoveryPoint
        $test.Healthy | Should -BeFalse
        $damaged = @($test.Damaged.Path)
        $damaged.Count | Should -BeGreaterThan 0
        @($failed.Path | Sort-Object -Unique) | Should -Be @($damaged | Sort-Object -Unique)
        $drillErr[0].Exception.Message | Should -BeLike "*$($damaged[0])*"
        { Start-OBRecoveryDrill -ErrorAction Stop } | Should -Throw "*$($damaged[0])*"
        (Get-OBRecoveryDrill).LastDrillState | Should -Be 'Failed'
        (Get-OBRecoveryDrill).LastDrillError | Should -BeLike "*$($damaged[0])*"
        Join-Path $ctx.Home 'drill' | Should -Not -Exist
    }
}

Describe 'Set-OBRecoveryDrill and the service' {
    BeforeEach { $ctx = New-TestContext }
    AfterEach { Remove-TestContext $ctx }

    It 'has no schedule until one is set' {
        Register-TestServer $ctx | Out-Null
        $d = Get-OBRecoveryDrill
        $d.Scheduled | Should -BeFalse
        $d.NextRunTime | Should -BeNullOrEmpty
        $d.LastDrillState | Should -BeNullOrEmpty
    }

    It 'refuses <Name> with an InvalidArgument ErrorRecord' -ForEach @(
        @{ Name = 'four times a day'; Times = @('01:00', '02:00', '03:00', '04:00'); Words = '*TimesOfDay*' },
        @{ Name = 'a time with seconds'; Times = @('01:00:30'); Words = '*whole minutes*' },
        @{ Name = 'a time given twice'; Times = @('01:00', '01:00'); Words = '*' }
    ) {
        Register-TestServer $ctx | Out-Null
        $err = Get-ErrorRecord { Set-OBRecoveryDrill -DaysOfWeek Monday -TimesOfDay ([TimeSpan[]]$Times) -Confirm:$false }
        $err | Should -Not -BeNullOrEmpty
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike $Words
        (Get-OBRecoveryDrill).Scheduled | Should -BeFalse
    }

    It 'runs one scheduled drill from the service, then none until the next time; -Remove stops them' {
        Initialize-DrillServer $ctx | Out-Null
        $base = [DateTime]::UtcNow
        $base = $base.AddTicks(-($base.Ticks % [TimeSpan]::TicksPerMinute))
        $env:OBAGENT_NOW = $base.ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
        # Every day, one hour after the pinned clock (local time, as the service reads it).
        $at = $base.AddHours(1).ToLocalTime().TimeOfDay
        $d = Set-OBRecoveryDrill -DaysOfWeek ([Enum]::GetValues([DayOfWeek])) -TimesOfDay $at -PassThru -Confirm:$false
        $d.Scheduled | Should -BeTrue
        $d.TimesOfDay | Should -Be @($at)
        $d.DaysOfWeek.Count | Should -Be 7
        $d.NextRunTime | Should -Be $base.AddHours(1).ToLocalTime()

        Invoke-ServiceStep $base.AddMinutes(30)
        (Get-DrillJobs).Count | Should -Be 0

        # Three days off: three due times passed, one drill catches up (a step that starts a due
        # backup of the policy's own schedule runs the drill at the next step: two steps).
        Invoke-ServiceStep $base.AddDays(3).AddHours(2)
        Invoke-ServiceStep $base.AddDays(3).AddHours(2)
        $drills = Get-DrillJobs
        $drills.Count | Should -Be 1
        $drills[0].JobStatus.JobState | Should -Be 'Completed'
        Invoke-ServiceStep $base.AddDays(3).AddHours(2).AddMinutes(1)
        (Get-DrillJobs).Count | Should -Be 1
        (Get-OBRecoveryDrill).LastDrillJobId | Should -Be $drills[0].JobId

        Set-OBRecoveryDrill -Remove -Confirm:$false
        (Get-OBRecoveryDrill).Scheduled | Should -BeFalse
        Invoke-ServiceStep $base.AddDays(5).AddHours(2)
        (Get-DrillJobs).Count | Should -Be 1
    }
}

Describe 'A drill of a vault on Azure Blob Storage' -Skip:(-not $script:AzuriteUp) {
    BeforeEach { $ctx = New-TestContext }
    AfterEach { Remove-TestContext $ctx }

    It 'restores the sample from the container and completes' {
        $port = if ($env:OBAGENT_PESTER_AZURITE_PORT) { [int]$env:OBAGENT_PESTER_AZURITE_PORT } else { 10000 }
        $az = @{
            StorageAccountName = 'devstoreaccount1'
            StorageAccountKey  = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
            ContainerName      = 'obagent-drill-' + $ctx.ServerName.Substring(4)
            Endpoint           = "http://127.0.0.1:$port/devstoreaccount1"
        }
        New-OBVault -Name $ctx.VaultName @az | Out-Null
        $file = Get-OBVaultCredentials @az -OutputPath $ctx.Creds
        Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Drill-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $ctx.Root 'data'
        New-Item -ItemType Directory -Path $data | Out-Null
        foreach ($i in 1..25) { Set-Content -LiteralPath (Join-Path $data "f$i.txt") -Value ("azure $i " * 100) }
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        Get-OBPolicy | Start-OBBackup | Select-Object -Last 1 | Should -Be 'The backup operation completed successfully.'
        @(Start-OBRecoveryDrill)[-1] | Should -Be $script:Success
        $job = Get-OBJob -Previous 1
        $job.JobType | Should -Be ([OBAgent.OBJobType]::RecoveryDrill)
        $job.FilesDone | Should -Be 20   # a sample of 20 of the 25 files
        Join-Path $ctx.Home 'drill' | Should -Not -Exist
    }
}


# Instant restore through the cmdlets (docs/MOUNT.md): Start-OBRecoveryMount prints MARS's line and
# where the point is mounted; Get-OBJob shows the ItemLevelRecovery job InProgress with the folder in
# JobStatus.DatasourceStatus[0].DriveLetter; the mounted files are the source's; writes fail; a backup
# runs while mounted; Stop-OBJob dismounts; -Async returns the job; another server's point mounts with
# its passphrase; refusals are ErrorRecords with a category. Skipped where /dev/fuse is missing.

BeforeDiscovery {
    $script:NoFuse = -not (Test-Path -LiteralPath '/dev/fuse') -or -not (Get-Command fusermount3 -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    $script:Line = 'Recovery volume mounted as disk. Browse volume from file explorer to recover items.'
    $script:Passphrase = 'Mount-Test-Passphrase-0123'

    function Initialize-MountServer {
        param($Context, [string] $Passphrase = $script:Passphrase)
        Register-TestServer $Context | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $Passphrase) -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $Context.Root 'data'
        New-Item -ItemType Directory -Path (Join-Path $data 'docs') -Force | Out-Null
        Set-Content -LiteralPath (Join-Path $data 'docs/readme.txt') -Value ('mounted text ' * 500)
        $bytes = [byte[]]::new(6MB)
        [Random]::new(11).NextBytes($bytes)
        [IO.File]::WriteAllBytes((Join-Path $data 'big.bin'), $bytes)
        chmod 640 (Join-Path $data 'docs/readme.txt')
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        (Get-OBPolicy | Start-OBBackup | Select-Object -Last 1) | Should -Be 'The backup operation completed successfully.'
        $data
    }

    function Use-Server {
        param($Context)
        $env:OBAGENT_HOME = $Context.Home
        $env:OBAGENT_SERVER_NAME = $Context.ServerName
    }

    function Test-Mounted {
        param([string] $Path)
        [bool](Get-Content /proc/self/mountinfo | Where-Object { ($_ -split ' ')[4] -eq $Path })
    }

    # Wait (generously) until the job is no longer in progress; returns it.
    function Wait-JobEnd {
        param([string] $JobId, [int] $Seconds = 180)
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        do {
            $j = Get-OBJob -Previous 50 | Where-Object { $_.JobId -eq $JobId }
            if ($j) { return $j }
            Start-Sleep -Milliseconds 100
        } while ([DateTime]::UtcNow -lt $deadline)
        throw "job $JobId did not end"
    }
}

Describe 'Start-OBRecoveryMount' -Skip:$script:NoFuse {
    BeforeAll {
        $script:ctx = New-TestContext
        $script:data = Initialize-MountServer $script:ctx
        $script:point = @(Get-OBRecoverableItem -Source @(Get-OBRecoverableSource)[0])[0]
    }
    AfterAll {
        Use-Server $script:ctx
        Get-OBJob | Where-Object JobType -eq 'ItemLevelRecovery' | ForEach-Object { Stop-OBJob -Job $_ -Confirm:$false -ErrorAction SilentlyContinue | Out-Null }
        Remove-TestContext $script:ctx
    }
    BeforeEach { Use-Server $script:ctx }

    It 'mounts the point, shows the job with its folder, serves the source''s files read-only, and Stop-OBJob dismounts' {
        $out = Start-OBRecoveryMount -RecoverableItem $script:point -Confirm:$false
        $out | Should -BeLike "$script:Line*"
        $path = $out.Substring($script:Line.Length)
        Test-Mounted $path | Should -BeTrue
        $job = @(Get-OBJob | Where-Object JobType -eq 'ItemLevelRecovery')
        $job.Count | Should -Be 1
        $job[0].JobStatus.JobState | Should -Be 'InProgress'
        $job[0].JobStatus.DatasourceStatus[0].DriveLetter | Should -Be $path
        $view = $path + $script:data
        (Get-FileHash (Join-Path $view 'big.bin')).Hash | Should -Be (Get-FileHash (Join-Path $script:data 'big.bin')).Hash
        Get-Content -Raw (Join-Path $view 'docs/readme.txt') | Should -Be (Get-Content -Raw (Join-Path $script:data 'docs/readme.txt'))
        (stat -c '%a %Y %s' (Join-Path $view 'docs/readme.txt')) | Should -Be (stat -c '%a %Y %s' (Join-Path $script:data 'docs/readme.txt'))
        { Set-Content -LiteralPath (Join-Path $view 'new.txt') -Value 'x' -ErrorAction Stop } | Should -Throw '*Read-only file system*'
        # Backups go on while a point is mounted.
        (Get-OBPolicy | Start-OBBackup | Select-Object -Last 1) | Should -Be 'The backup operation completed successfully.'
        Stop-OBJob -Job $job[0] -Confirm:$false | Out-Null
        $end = Wait-JobEnd $job[0].JobId
        $end.JobStatus.JobState | Should -Be 'Completed'
        $end.JobStatus.DatasourceStatus[0].DriveLetter | Should -Be $path
        Test-Mounted $path | Should -BeFalse
    }

    It '-Async returns the ItemLevelRecovery job; -MountPath and -Expiry are used' {
        $folder = Join-Path $script:ctx.Root 'browse'
        $job = Start-OBRecoveryMount -RecoverableItem $script:point -Async -MountPath $folder -Expiry ([TimeSpan]::FromSeconds(2)) -Confirm:$false
        $job | Should -BeOfType 'OBAgent.OBJob'
        $job.JobType | Should -Be 'ItemLevelRecovery'
        $job.JobStatus.JobState | Should -Be 'InProgress'
        $job.JobStatus.DatasourceStatus[0].DriveLetter | Should -Be $folder
        # It expires by itself.
        (Wait-JobEnd $job.JobId).JobStatus.JobState | Should -Be 'Completed'
        Test-Mounted $folder | Should -BeFalse
    }

    It 'refuses a folder that is not empty and an expiry under a second, with categories' {
        $full = Join-Path $script:ctx.Root 'full'
        New-Item -ItemType Directory -Path $full | Out-Null
        Set-Content -LiteralPath (Join-Path $full 'x') -Value 'x'
        $e = Get-ErrorRecord { Start-OBRecoveryMount -RecoverableItem $script:point -MountPath $full -Confirm:$false }
        $e | Should -Not -BeNullOrEmpty
        $e.Exception.Message | Should -BeLike '*not empty*'
        $e.CategoryInfo.Category | Should -Not -Be 'NotSpecified'
        $e = Get-ErrorRecord { Start-OBRecoveryMount -RecoverableItem $script:point -Expiry ([TimeSpan]::Zero) -Confirm:$false }
        $e.FullyQualifiedErrorId | Should -Be 'ExpiryNotPositive,OBAgent.Commands.StartOBRecoveryMountCommand'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        @(Get-OBJob | Where-Object JobType -eq 'ItemLevelRecovery').Count | Should -Be 0
    }
}

Describe 'Start-OBRecoveryMount of another server''s point' -Skip:$script:NoFuse {
    BeforeAll {
        $script:a = New-TestContext
        $script:adata = Initialize-MountServer $script:a -Passphrase 'Alpha-Mount-Passphrase-42'
        $script:b = New-TestContext
        Use-Server $script:b
        Register-TestServer $script:b -VaultPath $script:a.Vault -VaultName $script:a.VaultName | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Bravo-Mount-Passphrase-42') -WarningAction SilentlyContinue | Out-Null
    }
    AfterAll {
        Use-Server $script:b
        Get-OBJob | Where-Object JobType -eq 'ItemLevelRecovery' | ForEach-Object { Stop-OBJob -Job $_ -Confirm:$false -ErrorAction SilentlyContinue | Out-Null }
        Remove-TestContext $script:a
        Remove-TestContext $script:b
    }
    BeforeEach { Use-Server $script:b }

    It 'needs that server''s passphrase, then serves its files' {
        $server = Get-OBAlternateBackupServer | Where-Object ServerName -eq $script:a.ServerName
        $src = @(Get-OBRecoverableSource -Server $server)[0]
        $secret = ConvertTo-TestSecret 'Alpha-Mount-Passphrase-42'
        $item = @(Get-OBRecoverableItem -Source $src -EncryptionPassphrase $secret)[0]
        $e = Get-ErrorRecord { Start-OBRecoveryMount -RecoverableItem $item -Confirm:$false }
        $e.FullyQualifiedErrorId | Should -Be 'EncryptionPassphraseRequired,OBAgent.Commands.StartOBRecoveryMountCommand'
        $wrong = Get-ErrorRecord { Start-OBRecoveryMount -RecoverableItem $item -EncryptionPassphrase (ConvertTo-TestSecret 'Wrong-Passphrase-000000') -Confirm:$false }
        $wrong | Should -Not -BeNullOrEmpty
        $out = Start-OBRecoveryMount -RecoverableItem $item -EncryptionPassphrase $secret -Confirm:$false
        $path = $out.Substring($script:Line.Length)
        (Get-FileHash (Join-Path ($path + $script:adata) 'big.bin')).Hash | Should -Be (Get-FileHash (Join-Path $script:adata 'big.bin')).Hash
        $job = @(Get-OBJob | Where-Object JobType -eq 'ItemLevelRecovery')[0]
        Stop-OBJob -Job $job -Confirm:$false | Out-Null
        (Wait-JobEnd $job.JobId).JobStatus.JobState | Should -Be 'Completed'
    }
}

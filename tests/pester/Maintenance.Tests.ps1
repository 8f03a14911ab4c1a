# Soft delete and vault maintenance (obagent extensions): Remove-OBRecoveryPoint,
# Get-OBAllRecoveryPoints -IncludeDeleted, Restore-OBDeletedRecoveryPoint, Start-OBVaultMaintenance
# with OBAGENT_NOW past the 14 days, Get-OBMachineUsage after it; and Remove-OBPolicy -DeleteBackup
# with its security PIN.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    $script:Done = 'The recovery operation completed successfully.'

    # Random files (incompressible, so that deleting them frees vault space) in a folder.
    function New-RandomFiles {
        param([string] $Folder, [string] $Prefix, [int] $Count, [int] $Size, [int] $Seed)
        New-Item -ItemType Directory -Path $Folder -Force | Out-Null
        $rnd = [Random]::new($Seed)
        foreach ($i in 1..$Count) {
            $bytes = [byte[]]::new($Size)
            $rnd.NextBytes($bytes)
            [IO.File]::WriteAllBytes((Join-Path $Folder "$Prefix$i.bin"), $bytes)
        }
    }

    # A registered server with a passphrase and a policy over <root>/data; returns the data folder.
    function Initialize-Server {
        param($Context)
        Register-TestServer $Context | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Maintenance-Test-Passphrase-01') -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $Context.Root 'data'
        New-Item -ItemType Directory -Path $data -Force | Out-Null
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        $data
    }

    function Invoke-TestBackup {
        (Get-OBPolicy | Start-OBBackup | Select-Object -Last 1) | Should -Be 'The backup operation completed successfully.'
    }

    # The recovery point items of the file and folder data source, newest first.
    function Get-PointItems {
        @(Get-OBRecoverableSource | Where-Object Kind -ne 'SystemState' | Get-OBRecoverableItem)
    }
}

Describe 'Soft delete and vault maintenance' {
    BeforeAll {
        $script:Ctx = New-TestContext
        $script:Data = Initialize-Server $script:Ctx
        # Point 1 holds old*.bin; point 2 holds new*.bin only, so that purging point 1 frees its packs.
        New-RandomFiles -Folder $script:Data -Prefix 'old' -Count 4 -Size 512KB -Seed 11
        Invoke-TestBackup
        Get-ChildItem -LiteralPath $script:Data -Filter 'old*.bin' | Remove-Item -Force
        New-RandomFiles -Folder $script:Data -Prefix 'new' -Count 3 -Size 256KB -Seed 12
        $script:Expected = Join-Path $script:Ctx.Root 'expected'
        Copy-Item -LiteralPath $script:Data -Destination $script:Expected -Recurse
        Invoke-TestBackup
        $script:Points = Get-PointItems
        $script:Points.Count | Should -Be 2
        # Two backups in the same second have no defined order: tell the points apart by their files
        # (point 1 holds 4, point 2 holds 3).
        $oldId = (Get-OBAllRecoveryPoints | Where-Object FileCount -eq 4).RecoveryPointId
        $newId = (Get-OBAllRecoveryPoints | Where-Object FileCount -eq 3).RecoveryPointId
        $script:Old = $script:Points | Where-Object RecoveryPointId -eq $oldId
        $script:New = $script:Points | Where-Object RecoveryPointId -eq $newId
        $script:Old | Should -Not -BeNullOrEmpty
        $script:New | Should -Not -BeNullOrEmpty
    }

    AfterAll {
        Remove-TestContext $script:Ctx
    }

    It 'a forged unsigned deletion marker hides nothing, is warned about and purges nothing' {
        # What any agent can create in another server's area: today's attack, purge_after=1.
        $sha = [Security.Cryptography.SHA256]::Create()
        $hash = $sha.ComputeHash([Text.Encoding]::UTF8.GetBytes('obagent-server:' + $script:Ctx.ServerName.ToLowerInvariant()))
        $serverId = -join ($hash[0..15] | ForEach-Object { $_.ToString('x2') })
        $deleted = Join-Path $script:Ctx.Vault "servers/$serverId/deleted"
        New-Item -ItemType Directory -Path $deleted -Force | Out-Null
        $forged = Join-Path $deleted $script:New.RecoveryPointId
        [IO.File]::WriteAllText($forged, "obagent-deletion 1`npoint=$($script:New.RecoveryPointId)`ndeleted_at=1`npurge_after=1`nreason=forged`n")
        try {
            $points = @(Get-OBAllRecoveryPoints -WarningVariable warned -WarningAction SilentlyContinue)
            $points.RecoveryPointId | Should -Contain $script:New.RecoveryPointId
            ($points | Where-Object RecoveryPointId -eq $script:New.RecoveryPointId).State | Should -Be 'Available'
            ($warned -join "`n") | Should -Match 'deleted/.* was ignored'
            $env:OBAGENT_NOW = Get-TestTime ([TimeSpan]::FromDays(15))
            $r = Start-OBVaultMaintenance -GracePeriod 0 -Confirm:$false -WarningVariable mwarned -WarningAction SilentlyContinue
            $r.PointsPurged | Should -Be 0
            ($mwarned -join "`n") | Should -Match 'was ignored'
            @(Get-OBAllRecoveryPoints -WarningAction SilentlyContinue).RecoveryPointId | Should -Contain $script:New.RecoveryPointId
        } finally {
            Remove-Item Env:OBAGENT_NOW -ErrorAction SilentlyContinue
            Remove-Item -LiteralPath $forged -Force
        }
    }

    It 'Remove-OBRecoveryPoint without a security PIN deletes nothing' {
        $err = Get-ErrorRecord { $script:Old | Remove-OBRecoveryPoint -Confirm:$false }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Match '^AuthenticationFailed'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.Exception.Message | Should -Match 'needs a security PIN'
        @(Get-OBAllRecoveryPoints).RecoveryPointId | Should -Contain $script:Old.RecoveryPointId
    }

    It 'Remove-OBRecoveryPoint with a wrong security PIN deletes nothing' {
        $err = Get-ErrorRecord { $script:Old | Remove-OBRecoveryPoint -SecurityPin '00000000' -Confirm:$false }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Match '^AuthenticationFailed'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.Exception.Message | Should -Match 'PIN is incorrect'
        $err = Get-ErrorRecord { $script:Old | Remove-OBRecoveryPoint -SecurityPin 'not-a-pin' -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -Match '^AuthenticationFailed'
        @(Get-OBAllRecoveryPoints -IncludeDeleted | Where-Object DeletedTime).Count | Should -Be 0
    }

    It 'Remove-OBRecoveryPoint hides the point; -IncludeDeleted shows it' {
        $pin = New-OBSecurityPin -Path $script:Ctx.Vault
        $script:Old | Remove-OBRecoveryPoint -SecurityPin $pin.SecurityPin -Confirm:$false
        @(Get-OBAllRecoveryPoints).RecoveryPointId | Should -Not -Contain $script:Old.RecoveryPointId
        @(Get-OBAllRecoveryPoints).RecoveryPointId | Should -Contain $script:New.RecoveryPointId
        $all = @(Get-OBAllRecoveryPoints -IncludeDeleted)
        $all.Count | Should -Be 2
        $gone = $all | Where-Object RecoveryPointId -eq $script:Old.RecoveryPointId
        $gone.DeletedTime | Should -Not -BeNullOrEmpty
        $gone.PurgeAfter | Should -BeGreaterThan $gone.DeletedTime.AddDays(13)
        ($all | Where-Object RecoveryPointId -eq $script:New.RecoveryPointId).DeletedTime | Should -BeNullOrEmpty
    }

    It 'Remove-OBRecoveryPoint refuses a file inside a point' {
        $file = @(Get-OBRecoverableItem -ParentItem $script:New)[0]
        $err = Get-ErrorRecord { Remove-OBRecoveryPoint -RecoverableItem $file -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -Match '^NotARecoveryPoint'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'Restore-OBDeletedRecoveryPoint brings the point back' {
        Restore-OBDeletedRecoveryPoint -Path $script:Ctx.Vault -ServerName $script:Ctx.ServerName `
            -RecoveryPointId $script:Old.RecoveryPointId -Confirm:$false
        @(Get-OBAllRecoveryPoints).RecoveryPointId | Should -Contain $script:Old.RecoveryPointId
        (Get-OBAllRecoveryPoints -IncludeDeleted | Where-Object RecoveryPointId -eq $script:Old.RecoveryPointId).DeletedTime |
            Should -BeNullOrEmpty
    }

    It 'Start-OBVaultMaintenance keeps a deleted point within its 14 days' {
        $pin = New-OBSecurityPin -Path $script:Ctx.Vault
        $script:Old | Remove-OBRecoveryPoint -SecurityPin $pin.SecurityPin -Confirm:$false
        $r = Start-OBVaultMaintenance -GracePeriod 0 -Confirm:$false
        $r | Should -BeOfType ([OBAgent.OBMaintenanceReport])
        $r.PointsPurged | Should -Be 0
        @(Get-OBAllRecoveryPoints -IncludeDeleted).RecoveryPointId | Should -Contain $script:Old.RecoveryPointId
    }

    It 'after 14 days two runs purge the point and Get-OBMachineUsage drops' {
        $before = (Get-OBMachineUsage).StorageUsedByMachineInBytes
        $env:OBAGENT_NOW = [DateTime]::UtcNow.AddDays(15).ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
        try {
            $r1 = Start-OBVaultMaintenance -GracePeriod 0 -Confirm:$false
            $r2 = Start-OBVaultMaintenance -GracePeriod 0 -Confirm:$false
            ($r1.PointsPurged + $r2.PointsPurged) | Should -Be 1
            ($r1.BytesReclaimed + $r2.BytesReclaimed) | Should -BeGreaterThan 0
            @(Get-OBAllRecoveryPoints -IncludeDeleted).RecoveryPointId | Should -Not -Contain $script:Old.RecoveryPointId
            $after = (Get-OBMachineUsage).StorageUsedByMachineInBytes
            $after | Should -BeLessThan $before
            # The 2 MB of old*.bin were only in the purged point.
            ($before - $after) | Should -BeGreaterThan 1MB
            $r2.BytesInUse | Should -BeGreaterThan 0
        } finally {
            Remove-Item Env:OBAGENT_NOW -ErrorAction SilentlyContinue
        }
    }

    It 'the remaining point still restores byte for byte' {
        $dest = Join-Path $script:Ctx.Root 'restored'
        $point = @(Get-PointItems)
        $point.Count | Should -Be 1
        $point[0].RecoveryPointId | Should -Be $script:New.RecoveryPointId
        $opt = New-OBRecoveryOption -DestinationPath $dest -OverwriteType Overwrite
        (Start-OBRecovery -RecoverableItem $point[0] -RecoveryOption $opt | Select-Object -Last 1) | Should -Be $script:Done
        $rel = $script:Data.Substring(($point[0].MountPointName).TrimEnd('/').Length).TrimStart('/')
        $restored = Join-Path $dest $rel
        $files = @(Get-ChildItem -LiteralPath $script:Expected -File)
        $files.Count | Should -Be 3
        foreach ($f in $files) {
            (Get-FileHash -LiteralPath (Join-Path $restored $f.Name)).Hash | Should -Be (Get-FileHash -LiteralPath $f.FullName).Hash
        }
        @(Get-ChildItem -LiteralPath $restored -Filter 'old*.bin').Count | Should -Be 0
    }

    It 'a forged index object in the area: Start-OBVaultMaintenance warns naming it, keeps it, and the point tests healthy' {
        # Random bytes named by their SHA-256, as any server of the vault can create them here.
        $sha = [Security.Cryptography.SHA256]::Create()
        $hex = { param($b) -join ($b | ForEach-Object { $_.ToString('x2') }) }
        $id = & $hex ($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes('obagent-server:' + $script:Ctx.ServerName.ToLowerInvariant()))[0..15])
        $bytes = [byte[]]::new(700)
        [Random]::new(5).NextBytes($bytes)
        $name = & $hex $sha.ComputeHash($bytes)
        $path = Join-Path $script:Ctx.Vault "servers/$id/index/$name"
        [IO.File]::WriteAllBytes($path, $bytes)
        $r = Start-OBVaultMaintenance -GracePeriod 0 -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue
        $r | Should -Not -BeNullOrEmpty
        ($warned -join "`n") | Should -Match $name
        Test-Path -LiteralPath $path | Should -BeTrue
        ($script:New | Test-OBRecoveryPoint).Healthy | Should -BeTrue
    }

    It 'Start-OBVaultMaintenance does nothing with -WhatIf' {
        Start-OBVaultMaintenance -WhatIf | Should -BeNullOrEmpty
    }
}

Describe 'Remove-OBPolicy -DeleteBackup' {
    BeforeAll {
        $script:Ctx2 = New-TestContext
        $data = Initialize-Server $script:Ctx2
        New-RandomFiles -Folder $data -Prefix 'f' -Count 2 -Size 64KB -Seed 21
        Invoke-TestBackup
        $script:PolicySpec = $data
    }

    AfterAll {
        Remove-TestContext $script:Ctx2
    }

    It 'without -DeleteBackup removes the policy and keeps the points' {
        Get-OBPolicy | Remove-OBPolicy -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue
        $warned | Should -BeNullOrEmpty
        Get-OBPolicy | Should -BeNullOrEmpty
        @(Get-OBAllRecoveryPoints).Count | Should -Be 1
    }

    It 'with -DeleteBackup and no PIN fails with the PIN error and keeps the policy and points' {
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $script:PolicySpec) | Set-OBPolicy -Confirm:$false | Out-Null
        $err = Get-ErrorRecord { Get-OBPolicy | Remove-OBPolicy -DeleteBackup -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -Match '^AuthenticationFailed'
        $err.Exception.Message | Should -Match 'security PIN'
        Get-OBPolicy | Should -Not -BeNullOrEmpty
        @(Get-OBAllRecoveryPoints).Count | Should -Be 1
    }

    It 'with -DeleteBackup and a wrong PIN fails' {
        $err = Get-ErrorRecord { Get-OBPolicy | Remove-OBPolicy -DeleteBackup -SecurityPin '00000000' -Confirm:$false }
        $err | Should -Not -BeNullOrEmpty
        Get-OBPolicy | Should -Not -BeNullOrEmpty
        @(Get-OBAllRecoveryPoints).Count | Should -Be 1
    }

    It 'with -DeleteBackup and a valid PIN removes the policy and soft-deletes the points' {
        $pin = New-OBSecurityPin -Path $script:Ctx2.Vault
        Get-OBPolicy | Remove-OBPolicy -DeleteBackup -SecurityPin $pin.SecurityPin -Confirm:$false
        Get-OBPolicy | Should -BeNullOrEmpty
        @(Get-OBAllRecoveryPoints).Count | Should -Be 0
        $deleted = @(Get-OBAllRecoveryPoints -IncludeDeleted)
        $deleted.Count | Should -Be 1
        $deleted[0].DeletedTime | Should -Not -BeNullOrEmpty
    }
}

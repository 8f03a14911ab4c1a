# The module as a whole: manifest, exports, help, ShouldProcess metadata, loading of libobagent.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    $script:Expected = @(
        'Get-OBMachineSetting', 'Get-OBVault', 'Get-OBVaultCredentials', 'New-OBSecurityPin',
        'New-OBVault', 'Set-OBMachineSetting', 'Start-OBRegistration',
        'New-OBPolicy', 'New-OBFileSpec', 'Add-OBFileSpec', 'Remove-OBFileSpec', 'Get-OBFileSpec', 'Set-OBPolicy', 'Get-OBPolicy', 'Remove-OBPolicy', 'Get-OBPolicyState', 'Set-OBPolicyState', 'New-OBSchedule', 'Set-OBSchedule', 'Get-OBSchedule', 'New-OBRetentionPolicy', 'Set-OBRetentionPolicy', 'Get-OBRetentionPolicy', 'Start-OBBackup', 'Get-OBJob', 'Stop-OBJob', 'Get-OBMachineUsage', 'Get-OBAllRecoveryPoints',
        'Get-OBRecoverableSource', 'Get-OBRecoverableItem', 'New-OBRecoverableItem', 'New-OBPagingContext', 'New-OBRecoveryOption', 'Start-OBRecovery', 'Start-OBRecoveryMount', 'Get-OBAlternateBackupServer', 'Test-OBRecoveryPoint',
        'Add-OBSystemState', 'Set-OBSystemStatePolicy', 'Get-OBSystemStatePolicy', 'Remove-OBSystemStatePolicy', 'Start-OBSystemStateBackup',
        'Remove-OBRecoveryPoint', 'Restore-OBDeletedRecoveryPoint', 'Start-OBVaultMaintenance',
        'Start-OBRecoveryDrill', 'Set-OBRecoveryDrill', 'Get-OBRecoveryDrill'
    )
}

Describe 'OBAgent module' {
    It 'exports exactly the listed cmdlets' {
        $names = (Get-Command -Module OBAgent | Where-Object CommandType -eq 'Cmdlet').Name | Sort-Object
        $names | Should -Be ($script:Expected | Sort-Object)
    }

    It 'has a manifest for Desktop and Core, PowerShell 5.1' {
        $m = Test-ModuleManifest -Path (Join-Path $env:OBAGENT_TEST_MODULE 'OBAgent.psd1')
        $m.CompatiblePSEditions | Should -Contain 'Desktop'
        $m.CompatiblePSEditions | Should -Contain 'Core'
        $m.PowerShellVersion | Should -Be ([version]'5.1')
        $m.RootModule | Should -Be 'OBAgent.dll'
        $m.Guid | Should -Not -Be ([guid]::Empty)
    }

    It 'has the native library next to OBAgent.dll' {
        $lib = if ($IsWindows -or $PSVersionTable.PSEdition -eq 'Desktop') { 'obagent.dll' } elseif ($IsMacOS) { 'libobagent.dylib' } else { 'libobagent.so' }
        Join-Path $env:OBAGENT_TEST_MODULE $lib | Should -Exist
    }

    It 'loads libobagent from the module folder in a fresh process, with no other step' {
        $pwsh = Get-PwshPath
        $psd1 = Join-Path $env:OBAGENT_TEST_MODULE 'OBAgent.psd1'
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("obagent-pester-" + [guid]::NewGuid().ToString('N'))
        try {
            $cmd = "Import-Module '$psd1'; (Get-Command New-OBVault).Name; `$v = New-OBVault -Name Fresh -Path '$dir/v'; `$v.Name"
            $out = & $pwsh -NoProfile -NonInteractive -Command $cmd 2>&1
            $LASTEXITCODE | Should -Be 0
            ($out | Select-Object -Last 1) | Should -Be 'Fresh'
        } finally {
            Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
        }
    }

    It 'has help with a synopsis and an example for <_>' -ForEach @(
        'Get-OBMachineSetting', 'Get-OBVault', 'Get-OBVaultCredentials', 'New-OBSecurityPin',
        'New-OBVault', 'Set-OBMachineSetting', 'Start-OBRegistration',
        'New-OBPolicy', 'New-OBFileSpec', 'Add-OBFileSpec', 'Remove-OBFileSpec', 'Get-OBFileSpec', 'Set-OBPolicy', 'Get-OBPolicy', 'Remove-OBPolicy', 'Get-OBPolicyState', 'Set-OBPolicyState', 'New-OBSchedule', 'Set-OBSchedule', 'Get-OBSchedule', 'New-OBRetentionPolicy', 'Set-OBRetentionPolicy', 'Get-OBRetentionPolicy', 'Start-OBBackup', 'Get-OBJob', 'Stop-OBJob', 'Get-OBMachineUsage', 'Get-OBAllRecoveryPoints',
        'Get-OBRecoverableSource', 'Get-OBRecoverableItem', 'New-OBRecoverableItem', 'New-OBPagingContext', 'New-OBRecoveryOption', 'Start-OBRecovery', 'Start-OBRecoveryMount', 'Get-OBAlternateBackupServer', 'Test-OBRecoveryPoint',
        'Add-OBSystemState', 'Set-OBSystemStatePolicy', 'Get-OBSystemStatePolicy', 'Remove-OBSystemStatePolicy', 'Start-OBSystemStateBackup',
        'Remove-OBRecoveryPoint', 'Restore-OBDeletedRecoveryPoint', 'Start-OBVaultMaintenance',
        'Start-OBRecoveryDrill', 'Set-OBRecoveryDrill', 'Get-OBRecoveryDrill'
    ) {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match '^\s*\S+-\S+ '   # not the auto-generated syntax line
        $help.description | Should -Not -BeNullOrEmpty
        $examples = @((Get-Help $_ -Examples).examples.example)
        $examples.Count | Should -BeGreaterThan 0
        $examples[0].code | Should -Match ([regex]::Escape($_))
    }

    It 'documents every parameter of <_>' -ForEach @(
        'Get-OBVault', 'Get-OBVaultCredentials', 'New-OBSecurityPin', 'New-OBVault',
        'Set-OBMachineSetting', 'Start-OBRegistration',
        'New-OBPolicy', 'New-OBFileSpec', 'Add-OBFileSpec', 'Remove-OBFileSpec', 'Get-OBFileSpec', 'Set-OBPolicy', 'Get-OBPolicy', 'Remove-OBPolicy', 'Get-OBPolicyState', 'Set-OBPolicyState', 'New-OBSchedule', 'Set-OBSchedule', 'Get-OBSchedule', 'New-OBRetentionPolicy', 'Set-OBRetentionPolicy', 'Get-OBRetentionPolicy', 'Start-OBBackup', 'Get-OBJob', 'Stop-OBJob', 'Get-OBMachineUsage', 'Get-OBAllRecoveryPoints',
        'Get-OBRecoverableSource', 'Get-OBRecoverableItem', 'New-OBRecoverableItem', 'New-OBPagingContext', 'New-OBRecoveryOption', 'Start-OBRecovery', 'Start-OBRecoveryMount', 'Get-OBAlternateBackupServer', 'Test-OBRecoveryPoint',
        'Add-OBSystemState', 'Set-OBSystemStatePolicy', 'Get-OBSystemStatePolicy', 'Remove-OBSystemStatePolicy', 'Start-OBSystemStateBackup',
        'Remove-OBRecoveryPoint', 'Restore-OBDeletedRecoveryPoint', 'Start-OBVaultMaintenance',
        'Start-OBRecoveryDrill', 'Set-OBRecoveryDrill', 'Get-OBRecoveryDrill'
    ) {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        $params = (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin $common }
        $documented = @((Get-Help $_ -Full).parameters.parameter.name)
        foreach ($p in $params) { $documented | Should -Contain $p }
    }

    It 'hands the current $env:OBAGENT_* values to the library before every call' {
        $ctx = New-TestContext
        try {
            (Get-OBMachineSetting).ServerName | Should -Be $ctx.ServerName
            $ctx.Home | Should -Exist
            $env:OBAGENT_SERVER_NAME = 'renamed-server'
            $env:OBAGENT_HOME = Join-Path $ctx.Root 'home2'
            (Get-OBMachineSetting).ServerName | Should -Be 'renamed-server'
            $env:OBAGENT_HOME | Should -Exist
            $env:OBAGENT_NOW = 'not-a-time'
            $err = Get-ErrorRecord { New-OBVault -Name $ctx.VaultName -Path $ctx.Vault }
            $err.Exception.Message | Should -Match 'OBAGENT_NOW'
            Remove-Item Env:OBAGENT_NOW
            (New-OBVault -Name $ctx.VaultName -Path $ctx.Vault).Name | Should -Be $ctx.VaultName
        } finally {
            Remove-TestContext $ctx
        }
    }

    It 'Start-OBRegistration prompts by default: SupportsShouldProcess, ConfirmImpact High' {
        $attr = (Get-Command Start-OBRegistration).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.SupportsShouldProcess | Should -BeTrue
        $attr.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::High)
    }

    It 'Set-OBMachineSetting supports ShouldProcess with ConfirmImpact Medium' {
        $attr = (Get-Command Set-OBMachineSetting).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.SupportsShouldProcess | Should -BeTrue
        $attr.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::Medium)
    }

    It '<_> prompts by default: SupportsShouldProcess, ConfirmImpact High' -ForEach @(
        'Remove-OBSystemStatePolicy', 'Remove-OBRecoveryPoint', 'Start-OBVaultMaintenance', 'Remove-OBPolicy'
    ) {
        $attr = (Get-Command $_).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.SupportsShouldProcess | Should -BeTrue
        $attr.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::High)
    }

    It '<_> names a vault by -Path or by an Azure container' -ForEach @(
        'New-OBVault', 'Get-OBVault', 'Get-OBVaultCredentials', 'New-OBSecurityPin', 'Restore-OBDeletedRecoveryPoint'
    ) {
        $cmd = Get-Command $_
        @($cmd.ParameterSets.Name) | Should -Contain 'Path'
        @($cmd.ParameterSets.Name) | Should -Contain 'Azure'
        $cmd.DefaultParameterSet | Should -Be 'Path'
        foreach ($p in 'StorageAccountName', 'StorageAccountKey', 'ContainerName', 'Endpoint') { $cmd.Parameters.Keys | Should -Contain $p }
    }

    It 'Set-OBMachineSetting has the five MSOnlineBackup parameter sets' {
        $sets = (Get-Command Set-OBMachineSetting).ParameterSets
        $sets.Count | Should -Be 5
        $pp = (Get-Command Set-OBMachineSetting).Parameters['EncryptionPassphrase']
        $pp.ParameterType | Should -Be ([System.Security.SecureString])
        @($pp.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipeline }).Count | Should -BeGreaterThan 0
        (Get-Command Set-OBMachineSetting).Parameters['WorkDay'].ParameterType | Should -Be ([DayOfWeek[]])
        (Get-Command Set-OBMachineSetting).Parameters['StartWorkHour'].ParameterType | Should -Be ([TimeSpan])
        (Get-Command Set-OBMachineSetting).Parameters['WorkHourBandwidth'].ParameterType | Should -Be ([uint32])
        (Get-Command Set-OBMachineSetting).Parameters['ProxyPassword'].ParameterType | Should -Be ([System.Security.SecureString])
    }

    It 'has format views for its output types' {
        foreach ($t in 'OBAgent.OBVault', 'OBAgent.OBMachineSetting', 'OBAgent.OBSecurityPin', 'OBAgent.OBPolicy',
            'OBAgent.OBFileSpec', 'OBAgent.OBDataSource', 'OBAgent.OBJob', 'OBAgent.OBBackupInfo', 'OBAgent.OBMachineUsage',
            'OBAgent.OBBackupServer', 'OBAgent.OBRecoverableSource', 'OBAgent.OBRecoverableItem', 'OBAgent.OBRecoveryOption',
            'OBAgent.OBPagingContext', 'OBAgent.OBRecoveryPointTest', 'OBAgent.OBRecoveryDamage',
            'OBAgent.OBSchedule', 'OBAgent.OBRetentionPolicy', 'OBAgent.OBLTRSchedule', 'OBAgent.OBMaintenanceReport') {
            Get-FormatData -TypeName $t | Should -Not -BeNullOrEmpty
        }
    }
}

@{
    # obagent: open backup agent with the MSOnlineBackup cmdlet names. The cmdlets are in
    # OBAgent.dll; the engine is libobagent (libobagent.so / obagent.dll) in this same folder.
    RootModule           = 'OBAgent.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5d0c7a0e-3f4b-4c2e-9a61-0b7e2f1c8d43'
    Author               = 'The obagent authors'
    CompanyName          = 'obagent'
    Copyright            = '(c) The obagent authors.'
    Description          = 'Cmdlets of obagent, an open cross-platform backup agent in the shape of the MARS agent (MSOnlineBackup names).'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('OBAgent.Format.ps1xml')
    TypesToProcess       = @('OBAgent.Types.ps1xml')
    CmdletsToExport      = @(
        'New-OBVault'
        'Get-OBVault'
        'Get-OBVaultCredentials'
        'New-OBSecurityPin'
        'Start-OBRegistration'
        'Set-OBMachineSetting'
        'Get-OBMachineSetting'
        'New-OBPolicy'
        'New-OBFileSpec'
        'Add-OBFileSpec'
        'Remove-OBFileSpec'
        'Get-OBFileSpec'
        'Set-OBPolicy'
        'Get-OBPolicy'
        'Remove-OBPolicy'
        'Get-OBPolicyState'
        'Set-OBPolicyState'
        'New-OBSchedule'
        'Set-OBSchedule'
        'Get-OBSchedule'
        'New-OBRetentionPolicy'
        'Set-OBRetentionPolicy'
        'Get-OBRetentionPolicy'
        'Start-OBBackup'
        'Get-OBJob'
        'Stop-OBJob'
        'Get-OBMachineUsage'
        'Get-OBAllRecoveryPoints'
        'Get-OBRecoverableSource'
        'Get-OBRecoverableItem'
        'New-OBRecoverableItem'
        'New-OBPagingContext'
        'New-OBRecoveryOption'
        'Start-OBRecovery'
        'Start-OBRecoveryMount'
        'Get-OBAlternateBackupServer'
        'Test-OBRecoveryPoint'
        'Add-OBSystemState'
        'Set-OBSystemStatePolicy'
        'Get-OBSystemStatePolicy'
        'Remove-OBSystemStatePolicy'
        'Start-OBSystemStateBackup'
        'Remove-OBRecoveryPoint'
        'Restore-OBDeletedRecoveryPoint'
        'Start-OBVaultMaintenance'
        'Start-OBRecoveryDrill'
        'Set-OBRecoveryDrill'
        'Get-OBRecoveryDrill'
    )
    NestedModules        = @('OBAgentDsc.psm1')
    DscResourcesToExport = @('OBRegistration', 'OBMachineSetting', 'OBFilePolicy', 'OBSystemStatePolicy')
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Backup', 'MARS', 'MSOnlineBackup', 'Linux', 'Windows')
            ProjectUri = 'https://github.com/obagent/obagent'
        }
    }
}

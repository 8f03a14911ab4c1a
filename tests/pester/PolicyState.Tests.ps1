# Each policy's state is its own (issue 13): Set-OBPolicyState on the System State policy object
# pauses only System State, on the file policy only files. The MARS pattern (and Windows Admin
# Center's Suspend/Resume): Get-OBSystemStatePolicy | Set-OBPolicyState -State Paused, then
# Set-OBSystemStatePolicy; Get-OBPolicyState reads the object's own kind.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    $script:AllDays = [DayOfWeek]::Sunday, [DayOfWeek]::Monday, [DayOfWeek]::Tuesday, [DayOfWeek]::Wednesday,
        [DayOfWeek]::Thursday, [DayOfWeek]::Friday, [DayOfWeek]::Saturday

    function Set-TestSystemStatePolicy {
        $sched = New-OBSchedule -DaysOfWeek $script:AllDays -TimesOfDay 2:00
        $rtn = New-OBRetentionPolicy -RetentionDays 30
        New-OBPolicy | Add-OBSystemState | Set-OBRetentionPolicy -RetentionPolicy $rtn | Set-OBSchedule -Schedule $sched |
            Set-OBSystemStatePolicy -Confirm:$false
    }

    $script:Ctx = New-TestContext
    Register-TestServer $script:Ctx | Out-Null
    Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'PolicyState-Test-Passphrase-01') -WarningAction SilentlyContinue | Out-Null
    $script:Data = Join-Path $script:Ctx.Root 'data'
    New-Item -ItemType Directory -Path $script:Data | Out-Null
    Set-Content -LiteralPath (Join-Path $script:Data 'a.txt') -Value 'a'
}

AfterAll {
    Remove-TestContext $script:Ctx
}

Describe 'System State policy state without a file policy' {
    It 'pauses the System State policy when there is no file policy' {
        Set-TestSystemStatePolicy | Out-Null
        Get-OBPolicy | Should -BeNullOrEmpty
        $p = Get-OBSystemStatePolicy | Set-OBPolicyState -State Paused -Confirm:$false
        $p.PolicyState | Should -Be 'Paused'
        (Get-OBSystemStatePolicy).PolicyState | Should -Be 'Paused'
        Get-OBSystemStatePolicy | Get-OBPolicyState | Should -Be 'Paused'
        Get-OBPolicy | Should -BeNullOrEmpty
    }

    It 'Set-OBSystemStatePolicy after Set-OBPolicyState keeps the state (the MARS pattern)' {
        Get-OBSystemStatePolicy | Set-OBPolicyState -State Valid -Confirm:$false | Out-Null
        $c = Get-OBSystemStatePolicy | Set-OBPolicyState -State Paused -Confirm:$false | Set-OBSystemStatePolicy -Confirm:$false
        $c.PolicyState | Should -Be 'Paused'
        (Get-OBSystemStatePolicy).PolicyState | Should -Be 'Paused'
    }

    It 'a new System State policy object carries its state into Set-OBSystemStatePolicy' {
        $sched = New-OBSchedule -DaysOfWeek $script:AllDays -TimesOfDay 2:00
        $c = New-OBPolicy | Add-OBSystemState | Set-OBSchedule -Schedule $sched | Set-OBPolicyState -State Paused -Confirm:$false |
            Set-OBSystemStatePolicy -Confirm:$false
        $c.PolicyState | Should -Be 'Paused'
        (Get-OBSystemStatePolicy).PolicyState | Should -Be 'Paused'
    }
}

Describe 'System State and file policy states apart' {
    BeforeAll {
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $script:Data) |
            Set-OBSchedule -Schedule (New-OBSchedule -DaysOfWeek $script:AllDays -TimesOfDay 21:00) |
            Set-OBPolicy -Confirm:$false | Out-Null
        Get-OBSystemStatePolicy | Set-OBPolicyState -State Valid -Confirm:$false | Out-Null
    }

    It 'pausing System State leaves the file policy Valid' {
        Get-OBSystemStatePolicy | Set-OBPolicyState -State Paused -Confirm:$false | Set-OBSystemStatePolicy -Confirm:$false | Out-Null
        (Get-OBSystemStatePolicy).PolicyState | Should -Be 'Paused'
        (Get-OBPolicy).PolicyState | Should -Be 'Valid'
        Get-OBPolicy | Get-OBPolicyState | Should -Be 'Valid'
        Get-OBSystemStatePolicy | Get-OBPolicyState | Should -Be 'Paused'
    }

    It 'pausing the file policy leaves System State as it is' {
        Get-OBSystemStatePolicy | Set-OBPolicyState -State Valid -Confirm:$false | Out-Null
        Get-OBPolicy | Set-OBPolicyState -State Paused -Confirm:$false | Set-OBPolicy -Confirm:$false | Out-Null
        (Get-OBPolicy).PolicyState | Should -Be 'Paused'
        (Get-OBSystemStatePolicy).PolicyState | Should -Be 'Valid'
        Get-OBSystemStatePolicy | Get-OBPolicyState | Should -Be 'Valid'
    }

    It 'resumes each on its own' {
        Get-OBSystemStatePolicy | Set-OBPolicyState -State Paused -Confirm:$false | Out-Null
        Get-OBPolicy | Set-OBPolicyState -State Valid -Confirm:$false | Out-Null
        (Get-OBPolicy).PolicyState | Should -Be 'Valid'
        (Get-OBSystemStatePolicy).PolicyState | Should -Be 'Paused'
        Get-OBSystemStatePolicy | Set-OBPolicyState -State Valid -Confirm:$false | Out-Null
        (Get-OBSystemStatePolicy).PolicyState | Should -Be 'Valid'
        (Get-OBPolicy).PolicyState | Should -Be 'Valid'
    }

    It 'removing the System State policy leaves the file policy state' {
        Get-OBPolicy | Set-OBPolicyState -State Paused -Confirm:$false | Out-Null
        Get-OBSystemStatePolicy | Remove-OBSystemStatePolicy -Confirm:$false | Out-Null
        Get-OBSystemStatePolicy | Should -BeNullOrEmpty
        (Get-OBPolicy).PolicyState | Should -Be 'Paused'
    }
}
